-- Views for the questions users ask most. Each names its columns in Chinese-friendly order.

CREATE VIEW task_leads AS
SELECT t.task_no, t.title, u.unit_code AS lead_unit_code, u.name AS lead_unit,
       (SELECT group_concat(name, '、') FROM (
          SELECT pu.name FROM task_units p JOIN units pu ON pu.unit_code = p.unit_code
          WHERE p.task_no = t.task_no AND p.role = 'partner' ORDER BY p.position)) AS partner_units,
       t.due_date, t.text_status
FROM tasks t
JOIN task_units tu ON tu.task_no = t.task_no AND tu.role = 'lead'
JOIN units u ON u.unit_code = tu.unit_code
ORDER BY t.task_no;

CREATE VIEW task_progress_latest AS
SELECT p.task_no, t.title, p.unit_code, u.name AS unit, p.role, p.period, p.status,
       p.percent_complete, p.narrative, p.reported_on
FROM task_progress p
JOIN tasks t ON t.task_no = p.task_no
JOIN units u ON u.unit_code = p.unit_code
WHERE p.period = (SELECT max(period) FROM task_progress)
ORDER BY p.task_no, p.role = 'partner', u.unit_code;

CREATE VIEW coverage_latest AS
SELECT c.*
FROM coverage_by_area c
WHERE c.year = (SELECT max(year) FROM coverage_by_area);

CREATE VIEW villages_without_supervisor AS
SELECT vc.year, co.name AS county, t.name AS township, v.name AS village, vc.village_code,
       vc.has_childrens_home
FROM village_coverage vc
JOIN villages v ON v.village_code = vc.village_code
JOIN townships t ON t.township_code = vc.township_code
JOIN counties co ON co.county_code = vc.county_code
WHERE vc.supervisors = 0
  AND vc.year = (SELECT max(year) FROM village_coverage);

CREATE VIEW children_counts_named AS
SELECT c.year, c.level, c.area_code,
       CASE c.level WHEN 'prefecture' THEN '楚雄彝族自治州'
                    WHEN 'county' THEN (SELECT name FROM counties WHERE county_code = c.area_code)
                    ELSE (SELECT name FROM townships WHERE township_code = c.area_code) END AS area_name,
       c.series_code, p.name AS series_name, c.count, c.status
FROM children_counts c
JOIN publication_levels p ON p.series_code = c.series_code;

-- The facilities that may be shown at a point, with a Chinese popup for the cluster map.
CREATE VIEW facility_map AS
SELECT f.facility_id, f.name AS 名称, t.name AS 类型, co.name AS 县市, tw.name AS 乡镇,
       f.services AS 服务内容, f.hotline AS 服务热线, f.year_opened AS 建成年份,
       f.latitude, f.longitude,
       json_object(
         'title', f.name,
         'description', t.name || ' · ' || co.name || tw.name
           || '。服务:' || coalesce(f.services, '—') || '。热线:' || coalesce(f.hotline, '—'),
         'link', '/chuxiong/facilities/' || f.facility_id
       ) AS popup
FROM facilities f
JOIN facility_types t ON t.type_code = f.facility_type
JOIN counties co ON co.county_code = f.county_code
JOIN townships tw ON tw.township_code = f.township_code
WHERE f.location_precision = 'point'
ORDER BY f.facility_id;
