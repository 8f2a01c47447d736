ALTER TABLE "completions" ADD COLUMN "answered_model_id" text;--> statement-breakpoint
ALTER TABLE "completions" ADD COLUMN "error_retry_after_seconds" integer;--> statement-breakpoint
ALTER TABLE "completions" ADD CONSTRAINT "completions_answered_model_id_models_id_fkey" FOREIGN KEY ("answered_model_id") REFERENCES "models"("id");