//! The synthetic incident behind `perfcorr generate` and the bundled sample.

mod model;
mod random;
mod writer;

pub use model::{Incident, IncidentSpec, ViewSeries, BURSTY_VIEW, LAYERS, SLOW_VIEW};
pub use writer::{write_incident, FileFormat, Output};
