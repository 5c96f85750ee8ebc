-- PostGraphile computed column Folder.ancestors (applied by bench/pages.py before PostGraphile
-- starts): the folder's ancestors, root first, read from docgraph's materialized path. The same
-- list docgraph's Folder.ancestors returns, without its permission filter.
CREATE OR REPLACE FUNCTION public.folder_ancestors(f public.folder) RETURNS SETOF public.folder
LANGUAGE sql STABLE AS $$
    SELECT a.*
    FROM unnest(f.path[1:cardinality(f.path) - 1]) WITH ORDINALITY AS p(id, ord)
    JOIN public.folder a ON a.id = p.id
    ORDER BY p.ord
$$;
