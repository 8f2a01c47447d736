ALTER TABLE "completions" ADD COLUMN "cache_read_price_per_million" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "completions" ADD COLUMN "cache_write_price_per_million" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "completions" ADD COLUMN "cached_prompt_tokens" integer;--> statement-breakpoint
ALTER TABLE "completions" ADD COLUMN "cache_write_tokens" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "cache_read_price_per_million" bigint;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "cache_write_price_per_million" bigint;--> statement-breakpoint
-- Existing models get Anthropic's multipliers of their input price: reads
-- 0.1x, writes 1.25x. Exact for every seeded price; a price an admin set is
-- rounded down to whole nanocredits per token (a multiple of 10^6 per
-- million), the rule every price follows.
UPDATE "models" SET
  "cache_read_price_per_million" = "input_price_per_million" / 10 / 1000000 * 1000000,
  "cache_write_price_per_million" = "input_price_per_million" * 5 / 4 / 1000000 * 1000000;--> statement-breakpoint
ALTER TABLE "models" ALTER COLUMN "cache_read_price_per_million" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ALTER COLUMN "cache_write_price_per_million" SET NOT NULL;