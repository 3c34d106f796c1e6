-- CreateIndex
CREATE INDEX "account_events_created_at_id_idx" ON "account_events"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "social_accounts_created_at_id_idx" ON "social_accounts"("created_at" DESC, "id" DESC);
