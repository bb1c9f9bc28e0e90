-- Prompt search over the history: an FTS5 index of jobs.prompt (external content, kept in step by triggers).
CREATE VIRTUAL TABLE `jobs_fts` USING fts5(prompt, content='jobs', content_rowid='seq', detail='none', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `jobs_fts_insert` AFTER INSERT ON `jobs` BEGIN
  INSERT INTO `jobs_fts`(rowid, prompt) VALUES (new.rowid, new.prompt);
END;
--> statement-breakpoint
CREATE TRIGGER `jobs_fts_delete` AFTER DELETE ON `jobs` BEGIN
  INSERT INTO `jobs_fts`(`jobs_fts`, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
END;
--> statement-breakpoint
CREATE TRIGGER `jobs_fts_update` AFTER UPDATE OF `prompt` ON `jobs` BEGIN
  INSERT INTO `jobs_fts`(`jobs_fts`, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
  INSERT INTO `jobs_fts`(rowid, prompt) VALUES (new.rowid, new.prompt);
END;
--> statement-breakpoint
-- Index the rows that existed before this migration (an upgraded database).
INSERT INTO `jobs_fts`(`jobs_fts`) VALUES ('rebuild');
