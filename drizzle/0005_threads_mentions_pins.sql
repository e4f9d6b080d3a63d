CREATE TABLE "mentions" (
	"user_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"room_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"author_id" uuid NOT NULL,
	"thread_root_id" uuid,
	"in_timeline" boolean NOT NULL,
	CONSTRAINT "mentions_user_id_message_id_pk" PRIMARY KEY("user_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "thread_follows" (
	"root_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"room_id" uuid NOT NULL,
	"subscribed" boolean NOT NULL,
	"last_read_seq" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "thread_follows_root_id_user_id_pk" PRIMARY KEY("root_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "threads" (
	"root_id" uuid PRIMARY KEY NOT NULL,
	"room_id" uuid NOT NULL,
	"reply_count" integer DEFAULT 0 NOT NULL,
	"last_reply_at" timestamp (3) with time zone NOT NULL,
	"last_reply_seq" integer NOT NULL,
	"participant_ids" uuid[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "thread_root_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "show_in_room" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "timeline_no" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "mention_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "mention_room" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "pinned_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "pinned_by" uuid;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "timeline_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "mentions" ADD CONSTRAINT "mentions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentions" ADD CONSTRAINT "mentions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentions" ADD CONSTRAINT "mentions_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "thread_follows" ADD CONSTRAINT "thread_follows_root_id_messages_id_fk" FOREIGN KEY ("root_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "thread_follows" ADD CONSTRAINT "thread_follows_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "thread_follows" ADD CONSTRAINT "thread_follows_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_root_id_messages_id_fk" FOREIGN KEY ("root_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mentions_timeline_idx" ON "mentions" USING btree ("user_id","room_id","seq","author_id") WHERE "mentions"."in_timeline";--> statement-breakpoint
CREATE INDEX "mentions_thread_idx" ON "mentions" USING btree ("user_id","thread_root_id","seq","author_id") WHERE not "mentions"."in_timeline";--> statement-breakpoint
CREATE INDEX "mentions_message_idx" ON "mentions" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "thread_follows_user_room_idx" ON "thread_follows" USING btree ("user_id","room_id");--> statement-breakpoint
CREATE INDEX "threads_room_last_idx" ON "threads" USING btree ("room_id","last_reply_seq");--> statement-breakpoint
CREATE INDEX "threads_last_reply_idx" ON "threads" USING btree ("last_reply_at","root_id");--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_thread_root_id_messages_id_fk" FOREIGN KEY ("thread_root_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_pinned_by_users_id_fk" FOREIGN KEY ("pinned_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_room_author_seq_idx" ON "messages" USING btree ("room_id","author_id","seq") WHERE "messages"."thread_root_id" is null or "messages"."show_in_room";--> statement-breakpoint
CREATE INDEX "messages_thread_seq_idx" ON "messages" USING btree ("thread_root_id","seq") WHERE "messages"."thread_root_id" is not null;--> statement-breakpoint
CREATE INDEX "messages_room_mention_idx" ON "messages" USING btree ("room_id","seq") WHERE "messages"."mention_room";--> statement-breakpoint
CREATE INDEX "messages_pinned_idx" ON "messages" USING btree ("room_id","pinned_at") WHERE "messages"."pinned_at" is not null;--> statement-breakpoint
-- Every message stored so far is in the timeline (there were no thread replies).
UPDATE "messages" SET "timeline_no" = "seq";--> statement-breakpoint
UPDATE "rooms" SET "timeline_count" = "last_seq";
