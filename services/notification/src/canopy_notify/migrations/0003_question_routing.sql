-- Questions routed to likely answerers (docs/architecture.md §6 and §17 "Routing questions
-- to experts"): a question still unanswered after the tenant's delay notifies up to three of
-- the people analytics ranked on canopy.question-experts.v1 who pass notify's rules.

-- NULL: the service's default delay (CANOPY_NOTIFY_QUESTION_ROUTING_DELAY_S); 0: no routing.
ALTER TABLE tenant_settings ADD COLUMN question_routing_delay_s integer;

-- One row per question seen created, armed like a reminder: due at published + the tenant's
-- delay (pushed on while the candidates have not arrived), claimed with SKIP LOCKED, decided
-- once (outcome set). What the visibility rule and the notification need of the question
-- travels with it, refreshed by its edits.
CREATE TABLE routed_questions (
    tenant_id   text        NOT NULL,
    question_id text        NOT NULL,
    asker_id    text        NOT NULL,
    item        jsonb       NOT NULL,  -- the question's audience, as may_see reads it
    summary     jsonb       NOT NULL,  -- what the notification shows of it
    group_id    text,
    thread_id   text,
    published   timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,  -- times it came due before its candidates
    -- NULL: pending; else routed | nobody (no candidate passed) | answered | deleted |
    -- no_candidates (they never came) | off (the tenant routes no questions)
    outcome     text,
    decided_at  timestamptz,
    PRIMARY KEY (tenant_id, question_id)
);
CREATE INDEX routed_questions_due ON routed_questions (due_at) WHERE outcome IS NULL;
CREATE INDEX routed_questions_by_asker ON routed_questions (tenant_id, asker_id);

-- Live answers (kind answer) of questions: a question with one by its due time is not routed.
CREATE TABLE question_answers (
    tenant_id   text NOT NULL,
    question_id text NOT NULL,
    answer_id   text NOT NULL,
    PRIMARY KEY (tenant_id, question_id, answer_id)
);
CREATE INDEX question_answers_by_answer ON question_answers (tenant_id, answer_id);

-- The latest ranking of a question's likely answerers (canopy_common.question_experts),
-- kept until its route is decided.
CREATE TABLE question_experts (
    tenant_id   text        NOT NULL,
    question_id text        NOT NULL,
    asker_id    text        NOT NULL,
    computed_at timestamptz NOT NULL,
    model       text        NOT NULL,
    experts     jsonb       NOT NULL,  -- [{user_id, score, reason, evidence}], best first
    PRIMARY KEY (tenant_id, question_id)
);
