//! Parquet files through the `parquet` crate's column writers (no Arrow): every column
//! is `OPTIONAL` (null where a value is missing or does not convert), strings are UTF-8
//! `BYTE_ARRAY`, ints `INT64`, floats `DOUBLE`, timestamps `INT64` milliseconds
//! adjusted to UTC. Rows are buffered per column and written as a row group every
//! [`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] bytes, which bounds memory.

use std::io::{self, Write};
use std::sync::Arc;

use parquet::basic::{
    Compression as Codec, GzipLevel, LogicalType, Repetition, TimeUnit, Type as Physical, ZstdLevel,
};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use sluice_core::column::ColumnType;

use super::table::{Cell, Table};
use crate::sinks::lake::LakeCompression;

/// Most rows in a row group.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Most bytes of values buffered for a row group.
pub const ROW_GROUP_BYTES: usize = 4 * 1024 * 1024;

/// The values of one column in the row group being filled, and a definition level per
/// row (1: a value, 0: null).
enum Values {
    Str(Vec<ByteArray>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

struct Column {
    values: Values,
    defined: Vec<i16>,
}

/// Writes rows of `table` to a Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    columns: Vec<Column>,
    rows: usize,
    bytes: usize,
}

fn error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(format!("parquet: {e}"))
}

/// The Parquet schema of `table`.
fn schema(table: &Table) -> io::Result<Type> {
    let mut fields = Vec::with_capacity(table.columns.len());
    for (name, spec) in &table.columns {
        let (physical, logical) = match spec.ty {
            ColumnType::String => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            ColumnType::Int => (Physical::INT64, None),
            ColumnType::Float => (Physical::DOUBLE, None),
            ColumnType::Bool => (Physical::BOOLEAN, None),
            ColumnType::Timestamp => (
                Physical::INT64,
                Some(LogicalType::Timestamp {
                    is_adjusted_to_u_t_c: true,
                    unit: TimeUnit::MILLIS,
                }),
            ),
        };
        let field = Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
            .map_err(error)?;
        fields.push(Arc::new(field));
    }
    Type::group_type_builder("event")
        .with_fields(fields)
        .build()
        .map_err(error)
}

impl<W: Write + Send> ParquetWriter<W> {
    pub fn new(out: W, table: &Table, compression: LakeCompression) -> io::Result<Self> {
        let codec = match compression {
            LakeCompression::None => Codec::UNCOMPRESSED,
            LakeCompression::Snappy => Codec::SNAPPY,
            LakeCompression::Gzip => Codec::GZIP(GzipLevel::default()),
            LakeCompression::Zstd => Codec::ZSTD(ZstdLevel::default()),
        };
        let props = WriterProperties::builder()
            .set_compression(codec)
            .set_created_by(concat!("sluice ", env!("CARGO_PKG_VERSION")).to_owned())
            .build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema(table)?), Arc::new(props))
            .map_err(error)?;
        let columns = table
            .columns
            .iter()
            .map(|(_, spec)| Column {
                values: match spec.ty {
                    ColumnType::String => Values::Str(Vec::new()),
                    ColumnType::Int | ColumnType::Timestamp => Values::Int(Vec::new()),
                    ColumnType::Float => Values::Float(Vec::new()),
                    ColumnType::Bool => Values::Bool(Vec::new()),
                },
                defined: Vec::new(),
            })
            .collect();
        Ok(ParquetWriter {
            writer,
            columns,
            rows: 0,
            bytes: 0,
        })
    }

    /// Adds a row; its cells are in the table's column order and of its columns' types.
    pub fn write_row(&mut self, row: &[Cell<'_>]) -> io::Result<()> {
        for (column, cell) in self.columns.iter_mut().zip(row) {
            let defined = match (&mut column.values, cell) {
                (_, Cell::Null) => false,
                (Values::Str(v), Cell::Str(s)) => {
                    self.bytes += s.len();
                    v.push(ByteArray::from(s.as_bytes().to_vec()));
                    true
                }
                (Values::Int(v), Cell::Int(n) | Cell::Timestamp(n)) => {
                    v.push(*n);
                    true
                }
                (Values::Float(v), Cell::Float(f)) => {
                    v.push(*f);
                    true
                }
                (Values::Bool(v), Cell::Bool(b)) => {
                    v.push(*b);
                    true
                }
                // The table converts every cell to its column's type.
                _ => false,
            };
            column.defined.push(i16::from(defined));
            self.bytes += 8;
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS || self.bytes >= ROW_GROUP_BYTES {
            self.flush_row_group()?;
        }
        Ok(())
    }

    fn flush_row_group(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(error)?;
        let mut columns = self.columns.iter_mut();
        while let Some(mut writer) = group.next_column().map_err(error)? {
            let Some(column) = columns.next() else {
                return Err(io::Error::other("parquet: more columns than the table"));
            };
            let defined = Some(&column.defined[..]);
            match (writer.untyped(), &mut column.values) {
                (ColumnWriter::ByteArrayColumnWriter(w), Values::Str(v)) => {
                    w.write_batch(v, defined, None)
                }
                (ColumnWriter::Int64ColumnWriter(w), Values::Int(v)) => {
                    w.write_batch(v, defined, None)
                }
                (ColumnWriter::DoubleColumnWriter(w), Values::Float(v)) => {
                    w.write_batch(v, defined, None)
                }
                (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => {
                    w.write_batch(v, defined, None)
                }
                _ => return Err(io::Error::other("parquet: column type mismatch")),
            }
            .map_err(error)?;
            writer.close().map_err(error)?;
            column.defined.clear();
            match &mut column.values {
                Values::Str(v) => v.clear(),
                Values::Int(v) => v.clear(),
                Values::Float(v) => v.clear(),
                Values::Bool(v) => v.clear(),
            }
        }
        group.close().map_err(error)?;
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_row_group()?;
        self.writer.into_inner().map_err(error)
    }
}
