-- CreateExtension
-- Written by hand: the trigram search indexes below need it (see schema.prisma).
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "platform" AS ENUM ('TIKTOK');

-- CreateEnum
CREATE TYPE "account_status" AS ENUM ('ACTIVE', 'REAUTH_REQUIRED', 'DISCONNECTED');

-- CreateEnum
CREATE TYPE "account_event_type" AS ENUM ('CONNECTED', 'RECONNECTED', 'REFRESHED', 'REFRESH_FAILED', 'REAUTH_REQUIRED', 'DISCONNECTED', 'REVOKED', 'REVOKE_SKIPPED', 'REFRESH_TOKEN_EXPIRING');

-- CreateTable
CREATE TABLE "social_accounts" (
    "id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "platform" "platform" NOT NULL DEFAULT 'TIKTOK',
    "open_id" TEXT NOT NULL,
    "union_id" TEXT,
    "display_name" TEXT NOT NULL,
    "username" TEXT,
    "avatar_url" TEXT,
    "scopes" TEXT[],
    "status" "account_status" NOT NULL DEFAULT 'ACTIVE',
    "access_token_ciphertext" TEXT,
    "refresh_token_ciphertext" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "refresh_token_expires_at" TIMESTAMPTZ(3),
    "token_version" INTEGER NOT NULL DEFAULT 0,
    "next_refresh_at" TIMESTAMPTZ(3),
    "last_refreshed_at" TIMESTAMPTZ(3),
    "refresh_failure_count" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),
    "connected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disconnected_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "social_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_events" (
    "id" BIGSERIAL NOT NULL,
    "account_id" UUID NOT NULL,
    "type" "account_event_type" NOT NULL,
    "message" TEXT,
    "data" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "social_accounts_status_next_refresh_at_idx" ON "social_accounts"("status", "next_refresh_at");

-- CreateIndex
CREATE INDEX "social_accounts_user_id_created_at_idx" ON "social_accounts"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "social_accounts_open_id_idx" ON "social_accounts"("open_id");

-- CreateIndex
CREATE INDEX "social_accounts_display_name_trgm_idx" ON "social_accounts" USING GIN ("display_name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "social_accounts_username_trgm_idx" ON "social_accounts" USING GIN ("username" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "social_accounts_user_id_platform_open_id_key" ON "social_accounts"("user_id", "platform", "open_id");

-- CreateIndex
CREATE INDEX "account_events_account_id_created_at_id_idx" ON "account_events"("account_id", "created_at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "account_events" ADD CONSTRAINT "account_events_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "social_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
