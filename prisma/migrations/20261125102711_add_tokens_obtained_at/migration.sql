-- AlterTable
ALTER TABLE "social_accounts" ADD COLUMN     "tokens_obtained_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Existing rows: the newest of their connection and last refresh is when their current tokens were obtained
-- (what applyConnection compared before this column existed).
UPDATE "social_accounts" SET "tokens_obtained_at" = GREATEST("connected_at", COALESCE("last_refreshed_at", "connected_at"));
