mod shout;

pub use shout::{Echo, Loudness, ShoutConfig};
