ALTER TABLE `jobs` ADD `kind` text DEFAULT 'image' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `text` text;--> statement-breakpoint
CREATE INDEX `jobs_kind_created` ON `jobs` (`kind`,`created_at`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `vision_per_day` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `vision_per_month` integer;