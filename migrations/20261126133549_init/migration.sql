CREATE TYPE "completion_status" AS ENUM('PENDING', 'STREAMING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED');--> statement-breakpoint
CREATE TYPE "ledger_kind" AS ENUM('GRANT', 'CHARGE', 'REFUND', 'ADJUSTMENT');--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"name" text NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_reserved_non_negative" CHECK ("reserved" >= 0),
	CONSTRAINT "accounts_reservation_covered" CHECK ("balance" - "reserved" >= 0)
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"account_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "completions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	"account_id" uuid NOT NULL,
	"api_key_id" uuid,
	"model_id" text NOT NULL,
	"status" "completion_status" DEFAULT 'PENDING'::"completion_status" NOT NULL,
	"request" jsonb NOT NULL,
	"input_price_per_million" bigint NOT NULL,
	"output_price_per_million" bigint NOT NULL,
	"reserved" bigint NOT NULL,
	"content" text DEFAULT '' NOT NULL,
	"tool_calls" jsonb,
	"event_log" jsonb,
	"finish_reason" text,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"usage_estimated" boolean,
	"cost" bigint,
	"error_code" text,
	"error_message" text,
	"idempotency_key" text,
	"instance_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_token_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" text PRIMARY KEY,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_entries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"kind" "ledger_kind" NOT NULL,
	"completion_id" uuid,
	"note" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY,
	"name" text NOT NULL,
	"aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"upstream_id" text NOT NULL,
	"input_price_per_million" bigint NOT NULL,
	"output_price_per_million" bigint NOT NULL,
	"description" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"recommended" boolean DEFAULT false NOT NULL,
	"max_output_tokens" integer NOT NULL,
	"sort_order" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "accounts_created_at_idx" ON "accounts" ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_idx" ON "api_keys" ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_account_idx" ON "api_keys" ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "completions_idempotency_idx" ON "completions" ("account_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "completions_account_idx" ON "completions" ("account_id","created_at","id");--> statement-breakpoint
CREATE INDEX "completions_active_idx" ON "completions" ("instance_id") WHERE "status" in ('PENDING', 'STREAMING');--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_idempotency_idx" ON "ledger_entries" ("account_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_completion_charge_idx" ON "ledger_entries" ("completion_id") WHERE "kind" = 'CHARGE';--> statement-breakpoint
CREATE INDEX "ledger_account_idx" ON "ledger_entries" ("account_id","id");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id");--> statement-breakpoint
ALTER TABLE "completions" ADD CONSTRAINT "completions_account_id_accounts_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id");--> statement-breakpoint
ALTER TABLE "completions" ADD CONSTRAINT "completions_api_key_id_api_keys_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id");--> statement-breakpoint
ALTER TABLE "completions" ADD CONSTRAINT "completions_model_id_models_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id");--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_id_accounts_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id");--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_completion_id_completions_id_fkey" FOREIGN KEY ("completion_id") REFERENCES "completions"("id");