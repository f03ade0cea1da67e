//! The logical-plan codec of perfcorr's cluster processes: Ballista's own
//! codec (files, formats, its plan nodes) plus in-memory tables, which
//! DataFusion's codecs cannot send. A `MemTable` travels as one Arrow IPC
//! stream per partition inside the plan, so the scheduler and executors need
//! no access to what the client loaded.

use std::io::Cursor;
use std::sync::Arc;

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::{exec_datafusion_err, internal_err, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion_proto::logical_plan::LogicalExtensionCodec;

/// First byte of an encoded in-memory table (Ballista's codec writes
/// protobuf, whose first byte is never 0xFE for a table provider).
const MEM_TABLE: u8 = 0xFE;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct PerfcorrLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for PerfcorrLogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&MEM_TABLE, rest)) => Ok(Arc::new(decode_mem_table(rest, schema, table_ref)?)),
            _ => self.ballista.try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(&self, table_ref: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        match node.downcast_ref::<MemTable>() {
            Some(table) => encode_mem_table(table, table_ref, buf),
            None => self.ballista.try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// `MEM_TABLE`, the partition count (u32 LE), then per partition its IPC
/// stream's length (u64 LE) and the stream.
fn encode_mem_table(table: &MemTable, table_ref: &TableReference, buf: &mut Vec<u8>) -> Result<()> {
    buf.push(MEM_TABLE);
    buf.extend_from_slice(&(table.batches.len() as u32).to_le_bytes());
    for partition in &table.batches {
        let Ok(batches) = partition.try_read() else {
            return internal_err!("table {table_ref} is being written to while its query is sent to the cluster");
        };
        let mut stream = Vec::new();
        let mut writer = StreamWriter::try_new(&mut stream, &table.schema())?;
        for batch in batches.iter() {
            writer.write(batch)?;
        }
        writer.finish()?;
        drop(writer);
        buf.extend_from_slice(&(stream.len() as u64).to_le_bytes());
        buf.extend_from_slice(&stream);
    }
    Ok(())
}

fn decode_mem_table(mut buf: &[u8], schema: SchemaRef, table_ref: &TableReference) -> Result<MemTable> {
    let bad = || exec_datafusion_err!("in-memory table {table_ref}: the plan's copy of it is cut short");
    let mut take = |n: usize| -> Result<&[u8]> {
        let (head, rest) = buf.split_at_checked(n).ok_or_else(bad)?;
        buf = rest;
        Ok(head)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
    let mut partitions = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        let len = u64::from_le_bytes(take(8)?.try_into().map_err(|_| bad())?) as usize;
        let unreadable = |e| exec_datafusion_err!("in-memory table {table_ref}: {e}");
        let reader = StreamReader::try_new(Cursor::new(take(len)?), None).map_err(unreadable)?;
        let batches = reader.collect::<std::result::Result<Vec<RecordBatch>, _>>().map_err(unreadable)?;
        partitions.push(batches);
    }
    if partitions.is_empty() {
        partitions.push(Vec::new());
    }
    MemTable::try_new(schema, partitions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn mem_tables_round_trip() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, true), Field::new("v", DataType::Float64, true)]));
        let batch = |k: &str, v: f64| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![Some(k), None])), Arc::new(Float64Array::from(vec![v, -v]))]).unwrap()
        };
        let table = MemTable::try_new(schema.clone(), vec![vec![batch("a", 1.0), batch("b", 2.0)], vec![], vec![batch("c", -0.0)]]).unwrap();
        let codec = PerfcorrLogicalCodec::default();
        let name = TableReference::bare("t");
        let mut buf = Vec::new();
        codec.try_encode_table_provider(&name, Arc::new(table), &mut buf).unwrap();
        let decoded = codec.try_decode_table_provider(&buf, &name, schema.clone(), &TaskContext::default()).unwrap();
        let decoded = decoded.downcast_ref::<MemTable>().unwrap();
        let partitions: Vec<Vec<RecordBatch>> = decoded.batches.iter().map(|p| p.try_read().unwrap().clone()).collect();
        assert_eq!(partitions.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 0, 1]);
        assert_eq!(partitions[0][1], batch("b", 2.0));
        for cut in [1, 4, 12, buf.len() - 1] {
            let err = codec.try_decode_table_provider(&buf[..cut], &name, schema.clone(), &TaskContext::default()).unwrap_err();
            assert!(err.to_string().contains("in-memory table t"), "{err}");
        }
    }
}
