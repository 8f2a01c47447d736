-- Anthropic names Sonnet 4 and Opus 4 "claude-sonnet-4-0" / "claude-opus-4-0",
-- and their snapshots "claude-sonnet-4-20250514" / "claude-opus-4-20250514",
-- which the catalogue's dated-id rule reduces to "claude-sonnet-4" /
-- "claude-opus-4". Models seeded before those aliases existed get them,
-- one statement per name, unless some model already answers to it (an
-- admin's choice wins).
UPDATE "models" SET "aliases" = "aliases" || ARRAY['claude-sonnet-4-0']
WHERE "id" = 'anthropic/claude-4-sonnet' AND NOT EXISTS (SELECT 1 FROM "models" o WHERE o."id" = 'claude-sonnet-4-0' OR 'claude-sonnet-4-0' = ANY(o."aliases"));--> statement-breakpoint
UPDATE "models" SET "aliases" = "aliases" || ARRAY['claude-sonnet-4']
WHERE "id" = 'anthropic/claude-4-sonnet' AND NOT EXISTS (SELECT 1 FROM "models" o WHERE o."id" = 'claude-sonnet-4' OR 'claude-sonnet-4' = ANY(o."aliases"));--> statement-breakpoint
UPDATE "models" SET "aliases" = "aliases" || ARRAY['claude-opus-4-0']
WHERE "id" = 'anthropic/claude-4-opus' AND NOT EXISTS (SELECT 1 FROM "models" o WHERE o."id" = 'claude-opus-4-0' OR 'claude-opus-4-0' = ANY(o."aliases"));--> statement-breakpoint
UPDATE "models" SET "aliases" = "aliases" || ARRAY['claude-opus-4']
WHERE "id" = 'anthropic/claude-4-opus' AND NOT EXISTS (SELECT 1 FROM "models" o WHERE o."id" = 'claude-opus-4' OR 'claude-opus-4' = ANY(o."aliases"));
