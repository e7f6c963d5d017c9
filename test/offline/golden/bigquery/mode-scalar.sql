WITH p0_ev AS (SELECT CAST(s.`userId` AS STRING) AS __k0, s.`ts` AS __ts, CAST(s.`id` AS STRING) AS __id FROM `proj.ds.ev` AS s WHERE s.`userId` IS NOT NULL AND ((s.`userId` IS NOT NULL)) IS TRUE),
p0_rows AS (SELECT __rid, CAST(`user_id` AS STRING) AS __k0, __t FROM `proj.ds._larder_entities_x` WHERE `user_id` IS NOT NULL),
p0_m0_ev AS (SELECT __k0, __ts, (DIV(__ts, 60000) - IF(MOD(__ts, 60000) < 0, 1, 0)) AS __hop, __v, __w FROM (SELECT CAST(s.`userId` AS STRING) AS __k0, s.`ts` AS __ts, CAST(s.`id` AS STRING) AS __id, TRUE AS __where, s.`kind` AS __v, CAST(1 AS FLOAT64) AS __w FROM `proj.ds.ev` AS s WHERE s.`userId` IS NOT NULL AND ((s.`userId` IS NOT NULL)) IS TRUE) WHERE __where AND __v IS NOT NULL AND __w IS NOT NULL),
p0_m0_tiles AS (SELECT __k0, __hop, __v, SUM(__w) AS __w FROM p0_m0_ev GROUP BY __k0, __hop, __v),
p0_m0_rows AS (SELECT *, (DIV(__t, 60000) - IF(MOD(__t, 60000) < 0, 1, 0)) AS __c FROM p0_rows),
p0_m0_parts AS (SELECT r.__rid, tl.__v, tl.__w FROM p0_m0_rows r JOIN p0_m0_tiles tl ON r.__k0 = tl.__k0 AND tl.__hop BETWEEN r.__c - 59 AND r.__c - 1 UNION ALL SELECT r.__rid, e.__v, e.__w FROM p0_m0_rows r JOIN p0_m0_ev e ON r.__k0 = e.__k0 AND e.__hop = r.__c AND e.__ts <= r.__t),
p0_m0 AS (SELECT __rid, ARRAY_AGG(__v ORDER BY __w DESC, __v ASC LIMIT 1)[OFFSET(0)] AS `__f0` FROM (SELECT __rid, __v, SUM(__w) AS __w FROM p0_m0_parts GROUP BY __rid, __v) GROUP BY __rid)
SELECT e.__rid AS rid, p0_m0.`__f0` AS c0 FROM `proj.ds._larder_entities_x` e LEFT JOIN p0_m0 ON p0_m0.__rid = e.__rid ORDER BY e.__rid
