//! Result output formats: `table`, `csv`, `json`, `ndjson`, `markdown`.
//!
//! Floats are printed in shortest round-trip form (`7.917686214726462e-133`)
//! everywhere; NULL is empty in table, CSV and markdown, `null` in JSON.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use comfy_table::{ContentArrangement, Table};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Csv,
    Json,
    Ndjson,
    Markdown,
}

impl OutputFormat {
    pub fn parse(name: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(name, true).ok()
    }

    pub fn names() -> &'static str {
        "table, csv, json, ndjson, markdown"
    }

    /// Prints `batches` (with `schema`, so empty results keep their header).
    pub fn print(self, out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(), ArrowError> {
        self.print_fitted(out, schema, batches, None)
    }

    /// Like [`Self::print`]; a table is fitted to `width` columns when one is
    /// given (the prompt's terminal), long cells wrapped onto more lines.
    /// Other formats always keep full values.
    pub fn print_fitted(self, out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch], width: Option<usize>) -> Result<(), ArrowError> {
        let batches = if batches.is_empty() { vec![RecordBatch::new_empty(schema.clone())] } else { batches.to_vec() };
        match self {
            OutputFormat::Table => writeln!(out, "{}", table(schema, &batches, width)?)?,
            OutputFormat::Csv => {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(&mut *out);
                for batch in &batches {
                    writer.write(batch)?;
                }
            }
            OutputFormat::Json => {
                write_json::<datafusion::arrow::json::writer::JsonArray>(out, &batches)?;
                writeln!(out)?;
            }
            OutputFormat::Ndjson => write_json::<datafusion::arrow::json::writer::LineDelimited>(out, &batches)?,
            OutputFormat::Markdown => print_markdown(out, schema, &batches)?,
        }
        Ok(())
    }
}

/// A text table in the layout of Arrow's pretty printer.
fn table(schema: &SchemaRef, batches: &[RecordBatch], width: Option<usize>) -> Result<Table, ArrowError> {
    let mut table = Table::new();
    table.load_preset("||--+-++|    ++++++");
    table.set_header(schema.fields().iter().map(|f| f.name().as_str()));
    let options = FormatOptions::default().with_display_error(true);
    for batch in batches {
        for cells in display_rows(batch, &options)? {
            table.add_row(cells);
        }
    }
    if let Some(width) = width {
        table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width.min(u16::MAX as usize) as u16);
    }
    Ok(table)
}

/// The width of the terminal on standard output, if it is one.
pub fn terminal_width() -> Option<usize> {
    terminal_size().map(|(columns, _)| columns).or_else(|| environment_size("COLUMNS"))
}

/// Columns and rows of the terminal on standard output, if it is one.
fn terminal_size() -> Option<(usize, usize)> {
    // SAFETY: TIOCGWINSZ fills the winsize it is given and nothing else.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0).then_some((size.ws_col as usize, size.ws_row as usize))
}

fn environment_size(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok().filter(|&n| n > 0)
}

/// The area a chart may fill: the terminal's size, else `COLUMNS` and
/// `LINES`, else `default` (batch output into a file or pipe).
pub fn chart_area(default: (usize, usize)) -> (usize, usize) {
    terminal_size().unwrap_or_else(|| (environment_size("COLUMNS").unwrap_or(default.0), environment_size("LINES").unwrap_or(default.1)))
}

fn print_markdown(out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(), ArrowError> {
    let escape = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = schema.fields().iter().map(|f| escape(f.name())).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    writeln!(out, "|{}|", vec!["---"; names.len()].join("|"))?;
    for batch in batches {
        for cells in display_rows(batch, &FormatOptions::default())? {
            let cells: Vec<String> = cells.iter().map(|cell| escape(cell)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    Ok(())
}

/// JSON with NULLs written out as `null` (not omitted).
fn write_json<F: datafusion::arrow::json::writer::JsonFormat>(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<(), ArrowError> {
    let mut writer = datafusion::arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, F>(out);
    writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
    writer.finish()
}

/// The cells of each row of `batch` as display strings.
pub fn display_rows(batch: &RecordBatch, options: &FormatOptions) -> Result<Vec<Vec<String>>, ArrowError> {
    let formatters = batch
        .columns()
        .iter()
        .map(|column| ArrayFormatter::try_new(column.as_ref(), options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..batch.num_rows()).map(|row| formatters.iter().map(|f| f.value(row).to_string()).collect()).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn sample() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("p", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("a|b"), None])),
                Arc::new(Float64Array::from(vec![Some(7.917686214726462e-133), None])),
            ],
        )
        .unwrap();
        (schema, vec![batch])
    }

    fn render(format: OutputFormat) -> String {
        let (schema, batches) = sample();
        let mut out = Vec::new();
        format.print(&mut out, &schema, &batches).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_keeps_full_precision_and_nulls() {
        assert_eq!(render(OutputFormat::Csv), "name,p\na|b,7.917686214726462e-133\n,\n");
        assert_eq!(render(OutputFormat::Ndjson), "{\"name\":\"a|b\",\"p\":7.917686214726462e-133}\n{\"name\":null,\"p\":null}\n");
        assert_eq!(render(OutputFormat::Json), "[{\"name\":\"a|b\",\"p\":7.917686214726462e-133},{\"name\":null,\"p\":null}]\n");
        assert_eq!(render(OutputFormat::Markdown), "| name | p |\n|---|---|\n| a\\|b | 7.917686214726462e-133 |\n|  |  |\n");
        assert!(render(OutputFormat::Table).contains("| a|b  | 7.917686214726462e-133 |"));
    }

    #[test]
    fn a_fitted_table_wraps_long_cells_to_the_width() {
        let schema = Arc::new(Schema::new(vec![Field::new("name", DataType::Utf8, true), Field::new("doc", DataType::Utf8, true)]));
        let doc = "a long description that goes on and on ".repeat(8);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec!["pearson_r"])), Arc::new(StringArray::from(vec![doc.as_str()]))],
        )
        .unwrap();
        let mut out = Vec::new();
        OutputFormat::Table.print_fitted(&mut out, &schema, &[batch.clone()], Some(60)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|line| line.chars().count() <= 60), "{text}");
        assert!(text.lines().count() > 6, "{text}");
        let words = |t: &str| t.split(|c: char| "|+-".contains(c) || c.is_whitespace()).filter(|w| !w.is_empty()).count();
        assert_eq!(words(&text), words(&doc) + 3, "every word is kept: {text}");
        let mut full = Vec::new();
        OutputFormat::Table.print(&mut full, &schema, &[batch]).unwrap();
        assert!(String::from_utf8(full).unwrap().contains(doc.trim_end()), "batch mode keeps the cell whole");
    }

    #[test]
    fn empty_results_keep_the_header() {
        let (schema, _) = sample();
        let mut out = Vec::new();
        OutputFormat::Csv.print(&mut out, &schema, &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "name,p\n");
    }
}
