mod shout;

pub use shout::{Loudness, ShoutConfig};
