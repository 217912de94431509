//! `{{kind}}`: a transform that uppercases each event's body.

use std::io;

use sluice_runtime::prelude::*;

/// Uppercases each event's body (ASCII letters; other bytes are kept as they are).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "{{kind}}")]
pub struct {{Type}}Config {
    /// Drop events whose body is empty instead of passing them on.
    #[param(default = "false")]
    pub drop_empty: bool,
}

/// The running transform.
pub struct {{Type}} {
    drop_empty: bool,
}

impl BuildTransform for {{Type}}Config {
    type Transform = {{Type}};

    /// `counters` are this transform's metrics (`sluice_transform_*` on /metrics).
    async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<{{Type}}> {
        Ok({{Type}} {
            drop_empty: self.drop_empty,
        })
    }
}

impl Transform for {{Type}} {
    /// Changes the event in place; returns whether to keep it.
    fn apply(&self, event: &mut Event) -> bool {
        if self.drop_empty && event.body.is_empty() {
            return false;
        }
        event.body = event.body.to_ascii_uppercase().into();
        true
    }
}

#[cfg(test)]
mod tests {
    use sluice_runtime::testing;

    use super::*;

    #[test]
    fn uppercases_bodies_and_drops_empty_ones_when_asked() {
        let transform = {{Type}} { drop_empty: true };
        let kept = testing::apply(&transform, ["hello", "", "MiXeD 1"].map(Event::new));
        let bodies: Vec<String> = kept.iter().map(|e| e.body_text().into_owned()).collect();
        assert_eq!(bodies, ["HELLO", "MIXED 1"]);
    }
}
