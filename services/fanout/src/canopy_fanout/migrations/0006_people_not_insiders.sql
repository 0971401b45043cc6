-- The audience query (adapters/graph.py, candidates) looks up only the people who are not
-- active employees or bots: guests, people whose profile has not arrived, former colleagues.
-- They are few, so the query joins this small set, not every candidate with every person.
CREATE INDEX people_not_insiders ON people (tenant_id, user_id)
    WHERE NOT (active AND COALESCE(kind IN ('employee', 'bot'), false));
