#!/usr/bin/env bash
# Query plans of the integrations list (issue 12, bench/README.md): the SQL the store
# sends for each filter and the sort, with the values of the load test's filtered page,
# on a seeded store. Usage:
#   bash bench/plans.sh sqlite path/to/patchbay.db
#   bash bench/plans.sh postgres postgres://postgres@127.0.0.1:5432/dbname
set -euo pipefail
backend=$1 target=$2
cols='id, name, status'
like="(lower(name) LIKE '%jira%' ESCAPE '\\' OR lower(description) LIKE '%jira%' ESCAPE '\\')"
if [ "$backend" = sqlite ]; then
  tag="id IN (SELECT integration_id FROM integration_tags WHERE tag = 'team-042')"
  tag_category="id IN (SELECT integration_id FROM integration_tags WHERE tag = 'team-042' AND category = 'PROJECT_MANAGEMENT')"
  fts="id IN (SELECT s.integration_id FROM integration_search s WHERE s.search_id IN (SELECT rowid FROM integrations_fts WHERE integrations_fts MATCH '\"jira\"'))"
  queries=(
    "plain page|SELECT $cols FROM integrations ORDER BY id LIMIT 51"
    "category|SELECT $cols FROM integrations WHERE category = 'PROJECT_MANAGEMENT' ORDER BY id LIMIT 51"
    "status|SELECT $cols FROM integrations WHERE status = 'ACTIVE' ORDER BY id LIMIT 51"
    "enabled|SELECT $cols FROM integrations WHERE enabled = 1 ORDER BY id LIMIT 51"
    "project|SELECT $cols FROM integrations WHERE project_id IN ('prj_x') ORDER BY id LIMIT 51"
    "tag|SELECT $cols FROM integrations WHERE $tag ORDER BY id LIMIT 51"
    "text (FTS5 trigram)|SELECT $cols FROM integrations WHERE $fts ORDER BY id LIMIT 51"
    "text count|SELECT count(*) FROM integrations WHERE $fts"
    "category + tag + text (page)|SELECT $cols FROM integrations WHERE category = 'PROJECT_MANAGEMENT' AND $tag_category AND $like ORDER BY id LIMIT 51"
    "category + tag + text (count)|SELECT count(*) FROM integrations WHERE category = 'PROJECT_MANAGEMENT' AND $tag_category AND $like"
    "totalCount of the plain page|SELECT count(*) FROM integrations"
  )
  for q in "${queries[@]}"; do
    echo "-- ${q%%|*}"
    sqlite3 "$target" "EXPLAIN QUERY PLAN ${q#*|};"
    printf '.timer on\n%s;\n' "${q#*|}" | sqlite3 "$target" | grep 'Run Time' | sed 's/^/   /'
  done
else
  tag="(integrations.tags::jsonb @> '[\"team-042\"]'::jsonb)"
  category_tag="integration_category_tags(integrations.category, integrations.tags) @> ARRAY['PROJECT_MANAGEMENT team-042'::text]"
  contains="(strpos(lower(name), 'jira') > 0 OR strpos(lower(description), 'jira') > 0)"
  queries=(
    "plain page|SELECT $cols FROM integrations ORDER BY id LIMIT 51"
    "category|SELECT $cols FROM integrations WHERE category = 'PROJECT_MANAGEMENT' ORDER BY id LIMIT 51"
    "status|SELECT $cols FROM integrations WHERE status = 'ACTIVE' ORDER BY id LIMIT 51"
    "enabled|SELECT $cols FROM integrations WHERE enabled = true ORDER BY id LIMIT 51"
    "project|SELECT $cols FROM integrations WHERE project_id = ANY(ARRAY['prj_x']) ORDER BY id LIMIT 51"
    "tag|SELECT $cols FROM integrations WHERE $tag ORDER BY id LIMIT 51"
    "text (trigram GIN)|SELECT $cols FROM integrations WHERE $like ORDER BY id LIMIT 51"
    "text count|SELECT count(*) FROM integrations WHERE $like"
    "category + tag + text (page)|SELECT $cols FROM integrations WHERE category = 'PROJECT_MANAGEMENT' AND $category_tag AND $contains ORDER BY id LIMIT 51"
    "category + tag + text (count)|SELECT count(*) FROM integrations WHERE category = 'PROJECT_MANAGEMENT' AND $category_tag AND $contains"
    "totalCount of the plain page|SELECT count(*) FROM integrations"
  )
  for q in "${queries[@]}"; do
    echo "-- ${q%%|*}"
    psql -qAt "$target" -c "EXPLAIN (ANALYZE, COSTS off, SUMMARY on) ${q#*|}"
  done
fi
