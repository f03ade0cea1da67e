//! `prometheus(url, promql, start, end, step [, options])`: a range query
//! against a running Prometheus server, as a long table (table function);
//! `prometheus(url, promql [, time] [, options])` is an instant query.
//!
//! ```sql
//! SELECT * FROM prometheus('http://localhost:9090',
//!     'sum by (view) (rate(django_http_requests_latency_seconds_by_view_method_count[1m])) * 60',
//!     '2026-11-19T00:00:00Z', '2026-11-19T23:59:00Z', '1m', 'labels=view');
//! ```
//!
//! Columns: `ts` (Timestamp µs), one Utf8 column per label found in the
//! answer (sorted by name, NULL where a series lacks it; a label called `ts`
//! or `value` becomes `label_ts`/`label_value`) plus those named in
//! `'labels=a,b'` (so a query that may match nothing still has them), and
//! `value` (Float64; "NaN", "+Inf", "-Inf" read as such). Options:
//! `'timeout=30s'` (default 30 s per request), `'labels=…'`.
//!
//! The answer decides the columns, and DataFusion asks a table for its
//! columns while planning, so the query runs when the call is planned (once
//! for a `CREATE VIEW`: later queries of the view read the rows kept then).
//! The request blocks its thread, which is handed over by
//! [`tokio::task::block_in_place`] so no runtime worker stalls.

use std::sync::Arc;
use std::time::Duration;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_datafusion_err, plan_err, Result};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::Documentation;

use super::table_args::string_arguments;
use super::DOC_SECTION_PERFCORR;
use crate::sources::prometheus::{Range, Server};
use crate::sources::time::{parse_duration, parse_time};
use crate::sources::{long_table, Series};

const USAGE: &str = "prometheus(url, promql, start, end, step [, 'timeout=30s'] [, 'labels=a,b']) \
                     or prometheus(url, promql [, time] [, options]) for an instant query";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The table function registered as `prometheus`.
#[derive(Debug, Default)]
pub struct PrometheusFunction;

/// What one call asks for.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    server: Server,
    promql: String,
    /// `None`: an instant query at `time`.
    range: Option<Range>,
    time: Option<f64>,
    labels: Vec<String>,
}

impl Spec {
    fn parse(strings: &[String]) -> Result<Self> {
        let is_option = |s: &String| s.starts_with("timeout=") || s.starts_with("labels=");
        let positional = strings.iter().take_while(|s| !is_option(s)).count().max(2.min(strings.len()));
        let (fixed, options) = strings.split_at(positional);
        let bad = |what: String| plan_datafusion_err!("{USAGE}: {what}");
        let mut spec = match fixed {
            [url, promql, rest @ ..] if rest.len() != 2 && rest.len() <= 3 => Spec {
                server: Server { url: url.clone(), timeout: DEFAULT_TIMEOUT },
                promql: promql.clone(),
                range: None,
                time: None,
                labels: Vec::new(),
            },
            _ => return plan_err!("{USAGE}: got {} arguments", strings.len()),
        };
        match &fixed[2..] {
            [] => {}
            [time] => spec.time = Some(parse_time(time).map_err(bad)?),
            [start, end, step] => {
                let range = Range { start: parse_time(start).map_err(bad)?, end: parse_time(end).map_err(bad)?, step: parse_duration(step).map_err(bad)? };
                spec.range = Some(range);
            }
            _ => unreachable!("checked above"),
        }
        for option in options {
            match option.split_once('=') {
                Some(("timeout", value)) => spec.server.timeout = Duration::from_secs_f64(parse_duration(value).map_err(bad)?),
                Some(("labels", value)) => spec.labels.extend(value.split(',').map(str::trim).filter(|l| !l.is_empty()).map(str::to_string)),
                _ => return Err(bad(format!("bad option '{option}'"))),
            }
        }
        if !spec.server.url.starts_with("http://") && !spec.server.url.starts_with("https://") {
            return Err(bad(format!("'{}' is not an http:// URL", spec.server.url)));
        }
        Ok(spec)
    }

    fn fetch(&self) -> Result<Vec<Series>, String> {
        match self.range {
            Some(range) => self.server.query_range(&self.promql, range),
            None => self.server.query(&self.promql, self.time),
        }
    }
}

/// Runs `work`, which blocks, without stalling a worker of the runtime it is
/// called from (on a current-thread runtime, as in tests, there is no other
/// worker to hand the tasks to, and it simply runs).
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

impl TableFunctionImpl for PrometheusFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let spec = Spec::parse(&string_arguments(args.exprs(), USAGE)?)?;
        let series = blocking(|| spec.fetch()).map_err(|e| plan_datafusion_err!("{e}"))?;
        let batch = long_table(&series, &spec.labels)?;
        Ok(Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?))
    }
}

/// `prometheus`'s entry in `\functions`.
pub fn documentation() -> Documentation {
    Documentation::builder(
        DOC_SECTION_PERFCORR,
        "Table function: a Prometheus range query (or an instant query without start, end, step) as long rows \
         ts, one column per label, value. Long ranges are split into requests of 11,000 points.",
        "prometheus(url, promql, start, end, step [, 'timeout=30s'] [, 'labels=a,b'])",
    )
    .with_argument("url", "The server's base URL, e.g. 'http://localhost:9090'.")
    .with_argument("promql", "The PromQL expression.")
    .with_argument("start, end", "RFC 3339 times ('2026-11-19T00:00:00Z') or Unix seconds.")
    .with_argument("step", "Resolution: '60s', '1m', or seconds.")
    .with_sql_example("```sql\nSELECT * FROM prometheus('http://localhost:9090', 'up', '2026-11-19T00:00:00Z', '2026-11-19T01:00:00Z', '1m');\n```")
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Spec> {
        Spec::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn range_instant_and_options() {
        let range = parse(&["http://h:9090", "up", "2026-11-19T00:00:00Z", "1795050000", "1m", "timeout=5s", "labels=view, layer"]).unwrap();
        assert_eq!(range.range, Some(Range { start: 1_795_046_400.0, end: 1_795_050_000.0, step: 60.0 }));
        assert_eq!((range.server.timeout, range.labels.clone()), (Duration::from_secs(5), vec!["view".to_string(), "layer".to_string()]));
        let instant = parse(&["http://h:9090", "up{job=\"a\"}", "1795046400"]).unwrap();
        assert_eq!((instant.range, instant.time, instant.promql.as_str()), (None, Some(1_795_046_400.0), "up{job=\"a\"}"));
        assert_eq!(parse(&["http://h:9090", "up"]).unwrap().time, None);
        assert!(parse(&["http://h:9090", "up", "1", "2"]).unwrap_err().to_string().contains("got 4 arguments"));
        assert!(parse(&["http://h:9090", "up", "1", "2", "1x"]).unwrap_err().to_string().contains("'1x' is not a duration"));
        assert!(parse(&["h:9090", "up"]).unwrap_err().to_string().contains("not an http:// URL"));
        assert!(parse(&["http://h", "up", "retries=3"]).is_err());
    }
}
