-- Keeps image_keys (image key -> job) in step with jobs.images and partial_image events, for /generated.
CREATE TRIGGER `image_keys_job_insert` AFTER INSERT ON `jobs` WHEN json_array_length(new.images) > 0 BEGIN
  INSERT OR IGNORE INTO `image_keys`(`key`, `job_id`, `key_name`, `partial`)
    SELECT json_extract(value, '$.key'), new.id, new.key_name, 0 FROM json_each(new.images)
    WHERE json_extract(value, '$.key') IS NOT NULL;
END;
--> statement-breakpoint
CREATE TRIGGER `image_keys_job_update` AFTER UPDATE OF `images` ON `jobs` WHEN json_array_length(new.images) > 0 BEGIN
  INSERT OR IGNORE INTO `image_keys`(`key`, `job_id`, `key_name`, `partial`)
    SELECT json_extract(value, '$.key'), new.id, new.key_name, 0 FROM json_each(new.images)
    WHERE json_extract(value, '$.key') IS NOT NULL;
END;
--> statement-breakpoint
CREATE TRIGGER `image_keys_job_delete` AFTER DELETE ON `jobs` BEGIN
  DELETE FROM `image_keys` WHERE `job_id` = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `image_keys_partial_insert` AFTER INSERT ON `job_events`
  WHEN new.type = 'partial_image' AND json_extract(new.body, '$.image.key') IS NOT NULL BEGIN
  INSERT OR IGNORE INTO `image_keys`(`key`, `job_id`, `key_name`, `partial`)
    SELECT json_extract(new.body, '$.image.key'), new.job_id, (SELECT key_name FROM jobs WHERE id = new.job_id), 1;
END;
--> statement-breakpoint
-- Rows that existed before this migration (an upgraded or imported database).
INSERT OR IGNORE INTO `image_keys`(`key`, `job_id`, `key_name`, `partial`)
  SELECT json_extract(i.value, '$.key'), j.id, j.key_name, 0 FROM `jobs` j, json_each(j.images) i
  WHERE json_extract(i.value, '$.key') IS NOT NULL;
--> statement-breakpoint
INSERT OR IGNORE INTO `image_keys`(`key`, `job_id`, `key_name`, `partial`)
  SELECT json_extract(e.body, '$.image.key'), e.job_id, j.key_name, 1 FROM `job_events` e
  LEFT JOIN `jobs` j ON j.id = e.job_id
  WHERE e.type = 'partial_image' AND json_extract(e.body, '$.image.key') IS NOT NULL;
