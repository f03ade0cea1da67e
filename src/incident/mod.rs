//! The synthetic incident behind `perfcorr generate` and the bundled sample.

mod model;
mod openmetrics;
mod random;
mod writer;

pub use model::{Incident, IncidentSpec, ViewSeries, BURSTY_VIEW, LAYERS, SLOW_VIEW};
pub use openmetrics::{write_openmetrics, FILE_NAME as OPENMETRICS_FILE};
pub use writer::{write_incident, FileFormat, Output};
