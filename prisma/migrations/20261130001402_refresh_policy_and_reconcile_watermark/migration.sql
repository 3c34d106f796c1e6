-- AlterTable
ALTER TABLE "social_accounts" ADD COLUMN     "access_requested_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "social_accounts_updated_at_id_idx" ON "social_accounts"("updated_at", "id");
