ALTER TABLE "memberships" ADD COLUMN "notification_level" text;--> statement-breakpoint
ALTER TABLE "memberships" ADD COLUMN "notifications_muted_until" timestamp (3) with time zone;