WITH p0_ev AS (SELECT CAST(s.`userId` AS STRING) AS __k0, s.`ts` AS __ts, CAST(s.`id` AS STRING) AS __id, TRUE AS __w0, (CASE WHEN abs(CAST(s.`amount` AS FLOAT64)) <= 1e300 THEN s.`amount` END) AS __x0 FROM (SELECT `id`, `userId`, `kind`, `amount`, `attrs`, `ts` FROM `proj.ds.ev` WHERE `ts` IS NULL OR `ts` BETWEEN -8640000000000000 AND 1700100300000) AS s WHERE s.`userId` IS NOT NULL AND ((s.`userId` IS NOT NULL)) IS TRUE),
p0_rows AS (SELECT __rid, CAST(`user_id` AS STRING) AS __k0, __t FROM `proj.ds._larder_entities_x` WHERE `user_id` IS NOT NULL),
p0_ev_60000 AS (SELECT *, (DIV(__ts, 60000) - IF(MOD(__ts, 60000) < 0, 1, 0)) AS __hop FROM p0_ev),
p0_raw_60000 AS (SELECT __k0, __hop, __ts, IF(__w0, __x0, NULL) AS a0 FROM p0_ev_60000),
p0_tiles_60000 AS (SELECT __k0, __hop, MIN(IF(__w0, __x0, NULL)) AS a0 FROM p0_ev_60000 GROUP BY __k0, __hop),
p0_rows_60000 AS (SELECT *, (DIV(__t, 60000) - IF(MOD(__t, 60000) < 0, 1, 0)) AS __c FROM p0_rows),
p0_parts_60000 AS (SELECT r.__rid, IF(tl.__hop >= r.__c - 59, tl.a0, NULL) AS a0 FROM p0_rows_60000 r JOIN p0_tiles_60000 tl ON r.__k0 = tl.__k0 AND tl.__hop BETWEEN r.__c - 59 AND r.__c - 1 UNION ALL SELECT r.__rid, e.a0 FROM p0_rows_60000 r JOIN p0_raw_60000 e ON r.__k0 = e.__k0 AND e.__hop = r.__c AND e.__ts <= r.__t),
p0_h60000 AS (SELECT __rid, MIN(a0) AS `__f0` FROM p0_parts_60000 GROUP BY __rid)
SELECT e.__rid AS rid, p0_h60000.`__f0` AS c0 FROM `proj.ds._larder_entities_x` e LEFT JOIN p0_h60000 ON p0_h60000.__rid = e.__rid ORDER BY e.__rid
