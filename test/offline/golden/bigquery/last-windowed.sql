WITH p0_ev AS (SELECT CAST(s.`userId` AS STRING) AS __k0, s.`ts` AS __ts, CAST(s.`id` AS STRING) AS __id, TRUE AS __w0, s.`kind` AS __x0 FROM (SELECT `id`, `userId`, `kind`, `amount`, `attrs`, `ts` FROM `proj.ds.ev` WHERE `ts` IS NULL OR `ts` BETWEEN -8640000000000000 AND 1700100300000) AS s WHERE s.`userId` IS NOT NULL AND ((s.`userId` IS NOT NULL)) IS TRUE),
p0_rows AS (SELECT __rid, CAST(`user_id` AS STRING) AS __k0, __t FROM `proj.ds._larder_entities_x` WHERE `user_id` IS NOT NULL),
p0_w0_ev AS (SELECT __k0, __ts, __id, (DIV(__ts, 60000) - IF(MOD(__ts, 60000) < 0, 1, 0)) AS __hop, __x0 AS __v FROM p0_ev WHERE __w0 AND __x0 IS NOT NULL),
p0_w0_tiles AS (SELECT * EXCEPT (__n) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY __k0, __hop ORDER BY __ts DESC, __id DESC, __v DESC) AS __n FROM p0_w0_ev) WHERE __n = 1),
p0_w0_rows AS (SELECT *, (DIV(__t, 60000) - IF(MOD(__t, 60000) < 0, 1, 0)) AS __c FROM p0_rows),
p0_w0_parts AS (SELECT r.__rid, tl.__ts, tl.__id, tl.__v FROM p0_w0_rows r JOIN p0_w0_tiles tl ON r.__k0 = tl.__k0 AND tl.__hop BETWEEN r.__c - 59 AND r.__c - 1 UNION ALL SELECT r.__rid, e.__ts, e.__id, e.__v FROM p0_w0_rows r JOIN p0_w0_ev e ON r.__k0 = e.__k0 AND e.__hop = r.__c AND e.__ts <= r.__t),
p0_w0 AS (SELECT __rid, __v AS `__f0` FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY __rid ORDER BY __ts DESC, __id DESC, __v DESC) AS __n FROM p0_w0_parts) WHERE __n = 1)
SELECT e.__rid AS rid, p0_w0.`__f0` AS c0 FROM `proj.ds._larder_entities_x` e LEFT JOIN p0_w0 ON p0_w0.__rid = e.__rid ORDER BY e.__rid
