//! Weighted splits: which target of a model a new request starts on.
//!
//! Each model keeps its own smooth weighted round robin (the nginx
//! algorithm): every pick adds each target's weight to its running
//! `current`, takes the target with the largest `current` (the first on a
//! tie) and subtracts the total weight from it. A 10/90 split then goes
//! `B×4 A B×5` over and over, a 50/50 split alternates, and any run of
//! picks is within a request or two per target of its share.
//!
//! Why per model and not one counter: a counter shared by all models (what
//! the filter had before) maps each model's picks to whatever tickets the
//! other models left over. A 50/50 model interleaved 1:1 with another
//! model's traffic always drew even tickets, so every request went to one
//! side; a 10/90 split drew runs of ticket ranges and sent long bursts to
//! one side.
//!
//! The state lives in each worker's VM ([`crate::session::Worker`]) and is
//! never shared: Envoy spreads connections over its workers, and the union
//! of several smooth sequences is still within a few requests of the share,
//! which is all a split promises. Shared data would add a host call and a
//! compare-and-swap loop to every request for no visible gain.
//!
//! Unusable targets (circuit open, credential not ready) are handled by the
//! caller in two steps: the plan ([`Picks::plan`]) advances as if every
//! target were up, so the split is exact again the moment the target
//! recovers; a planned target that cannot take the request hands it to
//! [`Picks::among`], a second smooth sequence over the usable targets only,
//! so the remaining targets share the skipped traffic by their weights.

use std::cell::RefCell;

use crate::config::Model;

/// One worker's pick state of every model, keyed by model index.
#[derive(Debug, Default)]
pub struct Picks {
    models: RefCell<Vec<ModelPicks>>,
}

#[derive(Debug, Default, Clone)]
struct ModelPicks {
    plan: Vec<i64>,
    fallback: Vec<i64>,
}

impl Picks {
    /// The target the split assigns the next request of `model` (never
    /// `None` for a compiled model: one target at least has a weight).
    pub fn plan(&self, model_idx: usize, model: &Model) -> Option<usize> {
        self.with(model_idx, |m| smooth_next(&mut m.plan, model, &|_| true))
    }

    /// A target with a weight for which `usable` holds, by the same smooth
    /// rotation restricted to those targets; `None` if there is none.
    pub fn among(
        &self,
        model_idx: usize,
        model: &Model,
        usable: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        self.with(model_idx, |m| smooth_next(&mut m.fallback, model, usable))
    }

    fn with<T>(&self, model_idx: usize, f: impl FnOnce(&mut ModelPicks) -> T) -> T {
        let mut models = self.models.borrow_mut();
        if models.len() <= model_idx {
            models.resize(model_idx.saturating_add(1), ModelPicks::default());
        }
        match models.get_mut(model_idx) {
            Some(m) => f(m),
            None => f(&mut ModelPicks::default()),
        }
    }
}

/// One smooth weighted round-robin step over the targets with a weight for
/// which `usable` holds; the others' `current` stays as it is.
fn smooth_next(
    current: &mut Vec<i64>,
    model: &Model,
    usable: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    current.resize(model.targets.len(), 0);
    let mut total = 0i64;
    let mut best: Option<(usize, i64)> = None;
    for (i, (t, c)) in model.targets.iter().zip(current.iter_mut()).enumerate() {
        if t.weight == 0 || !usable(i) {
            continue;
        }
        let w = i64::from(t.weight);
        total = total.saturating_add(w);
        *c = c.saturating_add(w);
        if best.is_none_or(|(_, b)| *c > b) {
            best = Some((i, *c));
        }
    }
    let (i, _) = best?;
    if let Some(c) = current.get_mut(i) {
        *c = c.saturating_sub(total);
    }
    Some(i)
}

#[cfg(test)]
#[path = "split_tests.rs"]
pub(crate) mod tests;
