-- The trace and correlation of the request that submitted a case. Every later event about the
-- case (a coordinator's confirmation hours later, a partner's reply) joins them, so one trace
-- and one correlation id follow the case from the submission to the partner and back to the
-- patient's timeline. No personal data: ids only.
CREATE TABLE case_traces (
    inquiry_id uuid PRIMARY KEY REFERENCES inquiries (id) ON DELETE CASCADE,
    correlation_id text NOT NULL,
    traceparent text,
    tracestate text
);
