CREATE TABLE `account_quota` (
	`label` text PRIMARY KEY NOT NULL,
	`observed_at` integer NOT NULL,
	`primary_used_percent` integer,
	`primary_window_minutes` integer,
	`primary_resets_at` integer,
	`secondary_used_percent` integer,
	`secondary_window_minutes` integer,
	`secondary_resets_at` integer,
	`plan_type` text,
	`snapshot` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`day` text NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`account` text DEFAULT '' NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`images` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `key_id`, `account`)
);
--> statement-breakpoint
CREATE INDEX `usage_daily_account` ON `usage_daily` (`account`,`day`);--> statement-breakpoint
CREATE TABLE `job_attempts` (
	`job_id` text NOT NULL,
	`number` integer NOT NULL,
	`worker_id` text NOT NULL,
	`account` text,
	`backend` text,
	`route` text,
	`upstream_ids` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`duration_ms` integer,
	`error` text,
	`error_code` text,
	PRIMARY KEY(`job_id`, `number`)
);
--> statement-breakpoint
CREATE INDEX `job_attempts_account` ON `job_attempts` (`account`,`started_at`);--> statement-breakpoint
CREATE TABLE `job_events` (
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`job_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`state` text NOT NULL,
	`key_id` text,
	`key_name` text,
	`priority` integer DEFAULT 0 NOT NULL,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`request` text NOT NULL,
	`prompt` text NOT NULL,
	`account` text,
	`backend` text,
	`max_attempts` integer NOT NULL,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`attempt_timeout_ms` integer NOT NULL,
	`deadline_at` integer,
	`run_after` integer NOT NULL,
	`lease_worker` text,
	`lease_attempt` integer,
	`lease_expires_at` integer,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`images` text NOT NULL,
	`image_count` integer DEFAULT 0 NOT NULL,
	`error` text,
	`error_code` text,
	`progress` text,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`expires_at` integer,
	`origin` text DEFAULT 'queue' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_id_unique` ON `jobs` (`id`);--> statement-breakpoint
CREATE INDEX `jobs_claim` ON `jobs` (`state`,`priority`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_lease` ON `jobs` (`state`,`lease_expires_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_idempotency` ON `jobs` (`key_id`,`idempotency_key`) WHERE "jobs"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_created` ON `jobs` (`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_key_created` ON `jobs` (`key_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_state_created` ON `jobs` (`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_account_created` ON `jobs` (`account`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_key_state_created` ON `jobs` (`key_id`,`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_account_state_created` ON `jobs` (`account`,`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_expires` ON `jobs` (`expires_at`);--> statement-breakpoint
CREATE INDEX `jobs_finished` ON `jobs` (`finished_at`);--> statement-breakpoint
CREATE TABLE `admin_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`csrf_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`ip` text,
	`user_agent` text
);
--> statement-breakpoint
CREATE INDEX `admin_sessions_expires_at` ON `admin_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`expires_at` integer,
	`requests_per_minute` integer,
	`images_per_day` integer,
	`images_per_month` integer,
	`max_concurrent_jobs` integer,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`rotated_at` integer,
	`rotated_from` text,
	`origin` text DEFAULT 'created' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_unique` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_created_at` ON `api_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`details` text,
	`ip` text,
	`user_agent` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_action` ON `audit_log` (`action`);--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target_type`,`target_id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_counters` (
	`scope` text NOT NULL,
	`window` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `window`)
);
--> statement-breakpoint
CREATE INDEX `usage_counters_expires_at` ON `usage_counters` (`expires_at`);--> statement-breakpoint
CREATE TABLE `image_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`key_name` text,
	`partial` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `image_keys_job` ON `image_keys` (`job_id`);