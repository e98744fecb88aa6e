// The example site: plain JavaScript modules against the Carebridge public APIs, no framework,
// nothing from a CDN. Copy it, put your own config.json beside it (the APIs' URLs and your
// site's publishable key) and serve the folder from an origin your key allows.
//
// The answers' shapes are the generated TypeScript client's (clients/typescript/, from the
// public OpenAPI documents), named in JSDoc: tsc checks this file against them
// (examples/site/tsconfig.json, tests/unit/contracts/test_example_site_types.py) and the site
// still needs no build step. Copying the site, copy clients/typescript/src/ beside it too.

/**
 * @typedef {import("../../clients/typescript/src/index.js").ListPage} ListPage
 * @typedef {import("../../clients/typescript/src/index.js").SearchPage} SearchPage
 * @typedef {import("../../clients/typescript/src/index.js").Condition} Condition
 *
 * @typedef {object} SiteConfig what config.json beside the pages says
 * @property {string} content the content service's URL
 * @property {string} inquiries the inquiries service's URL
 * @property {string} [support] the support service's URL (the patient's support page)
 * @property {string | null} publishable_key the site's publishable key (bound to its origins)
 * @property {string[]} locales the languages the site offers
 */

const RTL = new Set(["ar"]);

/** The site's own words; the medical text comes from the API in the reader's language.
 * @type {Record<string, Record<string, string>>} */
const WORDS = {
  en: {
    conditions: "Conditions", ask: "Ask for treatment", search: "Search", search_label: "Search the medical pages",
    language: "Language", results: "Search results", site_nav: "Site",
    intro: "Treatment in Germany for heart conditions: read about a condition, then ask us to arrange your treatment.",
    footer: "An example of a site built on the Carebridge APIs: static files, the content API and the inquiry widget.",
    read: "Read more", symptoms: "Symptoms", faqs: "Frequently asked questions", treatments: "Treatments",
    services: "Services around your treatment", reviewed: "Medically reviewed by {0} on {1}; next review due {2}.",
    written: "Written by {0}.", overdue: "This page is due for its next medical review.",
    unreviewed: "Sample content: no medical reviewer has signed this page off.", sources: "Sources", hits: "{0} pages found for “{1}”.",
    none: "Nothing found for “{0}”.", failed: "The page could not be loaded ({0}).", ask_for: "Ask for treatment of this condition",
    status_title: "Your inquiry", support_title: "Support", need_help: "Questions or a problem? Write to our support desk.",
  },
  de: {
    conditions: "Erkrankungen", ask: "Behandlung anfragen", search: "Suchen", search_label: "Medizinische Seiten durchsuchen",
    language: "Sprache", results: "Suchergebnisse", site_nav: "Website",
    intro: "Behandlung von Herzerkrankungen in Deutschland: Lesen Sie über eine Erkrankung und lassen Sie uns Ihre Behandlung organisieren.",
    footer: "Ein Beispiel für eine Website auf den Carebridge-APIs: statische Dateien, die Content-API und das Anfrage-Widget.",
    read: "Weiterlesen", symptoms: "Symptome", faqs: "Häufige Fragen", treatments: "Behandlungen",
    services: "Leistungen rund um Ihre Behandlung", reviewed: "Medizinisch geprüft von {0} am {1}; nächste Prüfung fällig am {2}.",
    written: "Verfasst von {0}.", overdue: "Diese Seite ist zur nächsten medizinischen Prüfung fällig.",
    unreviewed: "Beispielinhalt: Keine medizinische Gutachterin, kein Gutachter hat diese Seite freigegeben.", sources: "Quellen", hits: "{0} Seiten gefunden für „{1}“.",
    none: "Nichts gefunden für „{0}“.", failed: "Die Seite konnte nicht geladen werden ({0}).", ask_for: "Behandlung dieser Erkrankung anfragen",
    status_title: "Ihre Anfrage", support_title: "Support", need_help: "Fragen oder ein Problem? Schreiben Sie unserem Support.",
  },
  uk: {
    conditions: "Захворювання", ask: "Запит на лікування", search: "Пошук", search_label: "Пошук медичних сторінок",
    language: "Мова", results: "Результати пошуку", site_nav: "Сайт", read: "Докладніше", symptoms: "Симптоми",
    faqs: "Часті запитання", treatments: "Лікування", services: "Послуги навколо лікування", sources: "Джерела",
    ask_for: "Запит на лікування цього захворювання",
    status_title: "Ваш запит", support_title: "Підтримка", need_help: "Питання чи проблема? Напишіть нашій підтримці.",
  },
  ru: {
    conditions: "Заболевания", ask: "Запрос на лечение", search: "Поиск", search_label: "Поиск по медицинским страницам",
    language: "Язык", results: "Результаты поиска", site_nav: "Сайт", read: "Подробнее", symptoms: "Симптомы",
    faqs: "Частые вопросы", treatments: "Лечение", services: "Услуги вокруг лечения", sources: "Источники",
    ask_for: "Запрос на лечение этого заболевания",
    status_title: "Ваш запрос", support_title: "Поддержка", need_help: "Вопрос или проблема? Напишите в нашу поддержку.",
  },
  ar: {
    conditions: "الحالات المرضية", ask: "طلب علاج", search: "بحث", search_label: "البحث في الصفحات الطبية",
    language: "اللغة", results: "نتائج البحث", site_nav: "الموقع", read: "اقرأ المزيد", symptoms: "الأعراض",
    faqs: "أسئلة شائعة", treatments: "العلاجات", services: "خدمات حول علاجك", sources: "المصادر",
    ask_for: "طلب علاج لهذه الحالة",
    status_title: "طلبك", support_title: "الدعم", need_help: "أسئلة أو مشكلة؟ اكتب إلى فريق الدعم.",
  },
};

const params = new URLSearchParams(location.search);
const lang = pickLanguage();

function pickLanguage() {
  const wanted = params.get("lang") || localStorage.getItem("lang") || navigator.language.slice(0, 2);
  return WORDS[wanted] ? wanted : "en";
}

/** @param {string} key @param {...(string|number)} args */
function say(key, ...args) {
  const text = WORDS[lang]?.[key] ?? WORDS.en?.[key] ?? key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
}

/** @param {unknown} s */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The element the page must have.
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} selector
 * @returns {E}
 */
function $(selector) {
  const found = document.querySelector(selector);
  if (!(found instanceof HTMLElement)) throw new Error(`the page has no ${selector}`);
  return /** @type {E} */ (found);
}

/** A link within the site that keeps the language.
 * @param {string} path @param {Record<string, string>} extra */
function here(path, extra = {}) {
  const [page, query = ""] = path.split("?");
  const search = new URLSearchParams(query);
  search.set("lang", lang);
  for (const [k, v] of Object.entries(extra)) search.set(k, v);
  return `${page}?${search}`;
}

/** @returns {Promise<SiteConfig>} */
async function loadConfig() {
  const response = await fetch("config.json");
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return response.json();
}

/**
 * A GET on the content API in the reader's language (or the nearest the API has).
 * @param {SiteConfig} config @param {string} path @param {Record<string, string>} query
 * @param {string} [accept]
 * @returns {Promise<any>} the answer, typed by the caller
 */
async function content(config, path, query = {}, accept = "application/json") {
  const url = new URL(path, config.content);
  url.search = new URLSearchParams(query).toString();
  // Accept-Language rather than ?locale=: the API falls back to a language it has (and says
  // which in Content-Language) where ?locale= names one it lacks and is refused.
  /** @type {Record<string, string>} */
  const headers = { Accept: accept, "Accept-Language": `${lang}, en;q=0.1` };
  if (config.publishable_key) headers["X-API-Key"] = config.publishable_key;
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`${response.status} ${url.pathname}`);
  return response.json();
}

function setUpChrome() {
  document.documentElement.lang = lang;
  document.documentElement.dir = RTL.has(lang) ? "rtl" : "ltr";
  localStorage.setItem("lang", lang);
  for (const el of document.querySelectorAll("[data-i18n]")) {
    if (el instanceof HTMLElement) el.textContent = say(el.dataset.i18n ?? "");
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    if (el instanceof HTMLElement) el.setAttribute("aria-label", say(el.dataset.i18nLabel ?? ""));
  }
  for (const a of document.querySelectorAll("header a, footer a")) {
    if (a instanceof HTMLAnchorElement) a.href = here(a.getAttribute("href") ?? "");
  }
  $("form.search [name=lang]").setAttribute("value", lang);
  $(`#q`).setAttribute("value", params.get("q") ?? "");
  /** @type {HTMLSelectElement} */
  const select = $("#lang");
  select.value = lang;
  // A new language is a new page: the API answers in it, and the URL can be shared.
  select.addEventListener("change", () => {
    const next = new URLSearchParams(location.search);
    next.set("lang", select.value);
    location.search = next.toString();
  });
}

/** @param {SiteConfig} config */
async function home(config) {
  /** @type {ListPage} */
  const page = await content(config, "/v1/conditions", { limit: "100" });
  const list = $("#conditions");
  list.innerHTML = page.items
    .map(
      (c) => `<li><h2><a href="${esc(here("condition.html", { slug: c.slug }))}">${esc(c.title ?? c.slug)}</a></h2>
        <p>${esc(c.summary ?? "")}</p></li>`,
    )
    .join("");
  list.removeAttribute("aria-busy");
}

/** @param {SiteConfig} config */
async function conditionPage(config) {
  const slug = params.get("slug") ?? "mitral-valve-insufficiency";
  const path = `/v1/conditions/${encodeURIComponent(slug)}`;
  /** @type {[Condition, object]} */
  const [doc, ld] = await Promise.all([
    content(config, path, { include: "related_treatments,related_services" }),
    content(config, path, {}, "application/ld+json"),
  ]);
  // Search engines read the page's facts from JSON-LD in the head (schema.org MedicalWebPage).
  const script = document.createElement("script");
  script.type = "application/ld+json";
  script.textContent = JSON.stringify(ld);
  document.head.append(script);
  document.title = doc.seo?.title ?? doc.title ?? slug;
  const meta = document.createElement("meta");
  meta.name = "description";
  meta.content = doc.seo?.description ?? doc.summary ?? "";
  document.head.append(meta);

  /** @param {string} key @param {string} heading */
  const related = (key, heading) => {
    const items = doc.included?.[key] ?? [];
    if (!items.length) return "";
    return `<section class="related" data-related="${esc(key)}"><h2>${esc(heading)}</h2><ul>${items
      .map((d) => `<li><strong>${esc(d.title ?? d.slug)}</strong>: ${esc(d.summary ?? "")}</li>`)
      .join("")}</ul></section>`;
  };
  const trust = doc.trust;
  // The review status as the API states it (`trust.review`): who signed the page off and when,
  // or that no one has, or that its next review is overdue. Never guessed on the page.
  const review = trust?.review;
  const reviewedBy = review?.status === "reviewed" && review.reviewed_by
    ? say("reviewed", review.reviewed_by.name, (review.reviewed_at ?? "").slice(0, 10), review.next_review_due ?? "")
    : "";
  const reviewNote = review?.status === "overdue" ? say("overdue") : review?.status === "unreviewed" ? say("unreviewed") : "";
  const article = $("#document");
  article.lang = doc.locale ?? lang;
  article.innerHTML = `
    <h1>${esc(doc.title)}</h1>
    <p class="summary">${esc(doc.summary ?? "")}</p>
    ${trust ? `<aside class="review" aria-label="${esc(say("sources"))}">
      <p>${esc(say("written", trust.author.name))} ${esc(reviewedBy)}</p>
      ${reviewNote ? `<p data-review="${esc(review?.status ?? "")}"><strong>${esc(reviewNote)}</strong></p>` : ""}</aside>` : ""}
    ${doc.symptoms?.length ? `<section><h2>${esc(say("symptoms"))}</h2><ul>${doc.symptoms.map((s) => `<li>${esc(s)}</li>`).join("")}</ul></section>` : ""}
    ${(doc.sections ?? []).map((s) => `<section id="${esc(s.key)}"><h2>${esc(s.heading)}</h2>${s.body_html}</section>`).join("")}
    ${doc.faqs?.length ? `<section class="faqs"><h2>${esc(say("faqs"))}</h2>${doc.faqs
      .map((f) => `<details><summary>${esc(f.question)}</summary>${f.answer_html}</details>`)
      .join("")}</section>` : ""}
    ${related("related_treatments", say("treatments"))}
    ${related("related_services", say("services"))}
    <p><a href="${esc(here("inquiry.html", { condition: doc.slug }))}">${esc(say("ask_for"))}</a></p>
    ${trust?.sources?.length ? `<section><h2>${esc(say("sources"))}</h2><ul>${trust.sources
      .map((s) => `<li><a href="${esc(s.url)}">${esc(s.title)}</a>, ${esc(s.publisher)}</li>`)
      .join("")}</ul></section>` : ""}
    <p class="disclaimer">${esc(doc.disclaimer ?? "")}</p>`;
  article.removeAttribute("aria-busy");
}

/** A snippet's text with the API's <mark> kept and nothing else taken as markup. @param {string} s */
const marked = (s) => esc(s).replace(/&#60;(\/?)mark&#62;/g, "<$1mark>");

/** @param {SiteConfig} config */
async function searchPage(config) {
  const q = params.get("q") ?? "";
  if (!q) return;
  /** @type {SearchPage} */
  const page = await content(config, "/v1/search", { q, limit: "20" });
  $("#summary").textContent = page.items.length ? say("hits", page.items.length, q) : say("none", q);
  $("#hits").innerHTML = page.items
    .map((hit) => {
      const href = hit.kind === "condition" ? here("condition.html", { slug: hit.slug }) : null;
      const title = href ? `<a href="${esc(href)}">${esc(hit.title)}</a>` : esc(hit.title);
      return `<li><h2>${title}</h2><p>${marked(hit.snippet)}</p></li>`;
    })
    .join("");
}

/** The widget, loaded from the inquiries service as any site would embed it. @param {SiteConfig} config */
async function inquiryPage(config) {
  loadWidget(config);
  const key = esc(config.publishable_key ?? "");
  const condition = esc(params.get("condition") ?? "");
  $("#widgets").innerHTML = `
    <carebridge-inquiry key="${key}" lang="${lang}" api="${esc(config.inquiries)}"
      content-api="${esc(config.content)}" condition="${condition}"></carebridge-inquiry>
    <carebridge-status key="${key}" lang="${lang}" api="${esc(config.inquiries)}"></carebridge-status>`;
}

/** The widget's module, from the inquiries service as any site would load it. @param {SiteConfig} config */
function loadWidget(config) {
  const script = document.createElement("script");
  script.type = "module";
  script.src = `${config.inquiries}/widget/carebridge.js`;
  document.head.append(script);
}

/** The page the status emails link to (/status?inquiry=…): the number filled in, the patient
 * types only their token, which never goes in a URL. @param {SiteConfig} config */
async function statusPage(config) {
  loadWidget(config);
  const inquiry = params.get("inquiry") ?? "";
  $("#widgets").innerHTML = `
    <carebridge-status key="${esc(config.publishable_key ?? "")}" lang="${lang}" api="${esc(config.inquiries)}"
      inquiry="${esc(inquiry)}"></carebridge-status>
    <p><a href="${esc(here("support.html", inquiry ? { inquiry } : {}))}">${esc(say("need_help"))}</a></p>`;
}

/** The page the support emails link to (/support?inquiry=…&case=…). @param {SiteConfig} config */
async function supportPage(config) {
  if (!config.support) throw new Error("config.json names no support service");
  loadWidget(config);
  $("#widgets").innerHTML = `
    <carebridge-support key="${esc(config.publishable_key ?? "")}" lang="${lang}" api="${esc(config.support)}"
      inquiry="${esc(params.get("inquiry") ?? "")}" case="${esc(params.get("case") ?? "")}"></carebridge-support>`;
  // A case opened here gets its number in the URL, so a reload shows it again.
  $("#widgets").addEventListener("carebridge-case-opened", (event) => {
    const next = new URLSearchParams(location.search);
    next.set("case", /** @type {CustomEvent<{id: string}>} */ (event).detail.id);
    history.replaceState(null, "", `?${next}`);
  });
}

/** @type {Record<string, (config: SiteConfig) => Promise<void>>} */
const PAGES = {
  home, condition: conditionPage, search: searchPage, inquiry: inquiryPage, status: statusPage, support: supportPage,
};

setUpChrome();
try {
  const show = PAGES[document.body.dataset.page ?? "home"] ?? home;
  await show(await loadConfig());
} catch (error) {
  const main = $("main");
  main.insertAdjacentHTML("beforeend", `<p role="alert">${esc(say("failed", String(error)))}</p>`);
  main.querySelector("[aria-busy]")?.removeAttribute("aria-busy");
}

export {};
