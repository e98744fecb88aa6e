/**
 * Carebridge's public API for sites, typed from its OpenAPI documents (content.ts,
 * inquiries.ts and support.ts are generated: `npm run generate`). The names below are what a site's code
 * usually needs; `paths` and `operations` describe every public route.
 */
import type { components as Content, operations as ContentOperations } from "./content.js";
import type {
  components as Inquiries,
  operations as InquiriesOperations,
} from "./inquiries.js";

export type { paths as ContentPaths } from "./content.js";
export type { paths as InquiriesPaths } from "./inquiries.js";
export type { paths as SupportPaths } from "./support.js";

export type Condition = Content["schemas"]["ConditionDocument"];
export type Treatment = Content["schemas"]["TreatmentDocument"];
export type Service = Content["schemas"]["ServiceDocument"];
export type Document = ContentOperations["getDocument"]["responses"][200]["content"]["application/json"];
export type ListPage = Content["schemas"]["Page"];
export type SearchPage = Content["schemas"]["SearchPage"];
export type SyncPage = Content["schemas"]["SyncPage"];
export type Problem = Content["schemas"]["Problem"];

export type AltchaChallenge = Inquiries["schemas"]["AltchaChallenge"];
export type InquirySubmission = Inquiries["schemas"]["SubmitInquiry"];
export type Submitted = InquiriesOperations["submitInquiry"]["responses"][201]["content"]["application/json"];
export type PatientCase = Inquiries["schemas"]["PatientCase"];

/** The page of a document on the site: what a site's router builds from a list item. */
export function pagePath(document: Pick<Document, "kind" | "slug">): string {
  return `/${document.kind}s/${document.slug}`;
}

/** A submission as a site's form builds it; the compiler checks it against the contract. */
export function submissionBody(form: InquirySubmission): string {
  return JSON.stringify(form);
}
