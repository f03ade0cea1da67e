//! Keeps statements from writing into the user's data: `COPY … TO` a path
//! inside a `--data` folder or over a file a table reads, and `INSERT` into
//! a table whose files lie in a `--data` folder, are refused before they
//! run. Writing anywhere else stays the user's choice.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{DmlStatement, LogicalPlan};
use datafusion::prelude::SessionContext;

/// The folders whose files perfcorr promises never to change.
#[derive(Debug, Clone, Default)]
pub struct WriteGuard {
    folders: Vec<PathBuf>,
}

impl WriteGuard {
    /// Guards `folders` (the `--data` folders).
    pub fn new(folders: &[PathBuf]) -> Self {
        Self { folders: folders.iter().map(|f| resolve(f)).collect() }
    }

    /// An error naming the target if `plan` writes into the user's data.
    pub async fn check(&self, ctx: &SessionContext, plan: &LogicalPlan) -> Result<(), String> {
        let mut copies = Vec::new();
        let mut inserts = Vec::new();
        plan.apply_with_subqueries(|node| {
            match node {
                LogicalPlan::Copy(copy) => copies.push(copy.output_url.clone()),
                LogicalPlan::Dml(DmlStatement { table_name, target, .. }) => {
                    if let Ok(provider) = source_as_provider(target) {
                        inserts.push((table_name.to_string(), provider));
                    }
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map_err(|e| e.to_string())?;
        for url in copies {
            if let Some(target) = local_path(&url) {
                self.check_target(ctx, &target).await.map_err(|why| format!("COPY to '{url}': refused, {why}"))?;
            }
        }
        for (table, provider) in inserts {
            for path in listing_paths(&provider) {
                if let Some(folder) = self.folder_holding(&path) {
                    return Err(format!("writing to table {table}: refused, its files are in the data folder {} (perfcorr never changes your data)", folder.display()));
                }
            }
        }
        Ok(())
    }

    /// An error if writing `path` (e.g. a report) would change the user's data.
    pub async fn check_path(&self, ctx: &SessionContext, path: &Path) -> Result<(), String> {
        self.check_target(ctx, &resolve(path)).await.map_err(|why| format!("{}: refused, {why}", path.display()))
    }

    /// Why writing the resolved `target` is refused, if it is.
    async fn check_target(&self, ctx: &SessionContext, target: &Path) -> Result<(), String> {
        if let Some(folder) = self.folder_holding(target) {
            return Err(format!("it is inside the data folder {} (perfcorr never changes your data)", folder.display()));
        }
        for (table, path) in registered_files(ctx).await {
            if target.starts_with(&path) || path.starts_with(target) {
                return Err(format!("table {table} reads {} (perfcorr never changes your data)", path.display()));
            }
        }
        Ok(())
    }

    fn folder_holding(&self, path: &Path) -> Option<&PathBuf> {
        self.folders.iter().find(|folder| path.starts_with(folder))
    }
}

/// The local files or folders each file-backed table reads.
async fn registered_files(ctx: &SessionContext) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else { continue };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else { continue };
            for table in schema.table_names() {
                if let Ok(Some(provider)) = schema.table(&table).await {
                    files.extend(listing_paths(&provider).into_iter().map(|path| (table.clone(), path)));
                }
            }
        }
    }
    files
}

fn listing_paths(provider: &Arc<dyn TableProvider>) -> Vec<PathBuf> {
    let Some(listing) = provider.downcast_ref::<ListingTable>() else { return Vec::new() };
    listing.table_paths().iter().filter_map(|url| url.get_url().to_file_path().ok()).map(|p: PathBuf| resolve(&p)).collect()
}

/// The local path a `COPY` target names, resolved; `None` for other stores.
/// A target is a URL when it parses as one with a scheme of two or more
/// letters (`file:///x`, `FILE:/x`, `file://localhost/x`, `s3://b/x`), else a
/// path (`C:` style one-letter schemes are paths too).
fn local_path(target: &str) -> Option<PathBuf> {
    match url::Url::parse(target) {
        Ok(url) if url.scheme().len() > 1 => match url.scheme() {
            "file" => url.to_file_path().ok().map(|path| resolve(&path)),
            _ => None,
        },
        _ => Some(resolve(Path::new(target))),
    }
}

/// `path` made absolute, with symbolic links and `..` resolved as far as it
/// exists (the rest, not yet created, is appended as written).
fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|dir| dir.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut resolved = real;
            for component in missing.iter().rev() {
                match component {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::CurDir => {}
                    other => resolved.push(other.as_os_str()),
                }
            }
            return resolved;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                missing.push(last);
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_that_do_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        assert_eq!(resolve(&dir.path().join("new/../x.csv")), real.join("x.csv"));
        assert_eq!(resolve(&dir.path().join("a/./b.csv")), real.join("a/b.csv"));
        assert_eq!(local_path(&format!("file://{}/y.csv", dir.path().display())), Some(real.join("y.csv")));
        assert_eq!(local_path("s3://bucket/x.csv"), None);
        assert_eq!(local_path(&format!("FILE://{}/y.csv", dir.path().display())), Some(real.join("y.csv")));
        assert_eq!(local_path(&format!("file:{}/y.csv", dir.path().display())), Some(real.join("y.csv")));
        assert_eq!(local_path(&format!("file://localhost{}/y.csv", dir.path().display())), Some(real.join("y.csv")));
    }
}
