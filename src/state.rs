//! Shared state: values a bot hands every handler and job ([`Bot::with_state`]), reached
//! with [`Context::state`] or by taking a [`State`] argument.
//!
//! [`Bot::with_state`]: crate::Bot::with_state
//! [`Context::state`]: crate::Context::state

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::webhook::{BoxError, Handler, HandlerFuture};

/// A value of type `S` given to [`Bot::with_state`](crate::Bot::with_state), shared by
/// every handler and job of the bot. Cheap to clone; derefs to `S`.
///
/// Take it as a second handler argument, `async fn h(ctx: Context, State(s): State<S>)`.
/// A handler asking for a type the bot was not given fails (it is not run) with
/// [`Error::Definition`].
pub struct State<S>(pub Arc<S>);

impl<S> Clone for State<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S> Deref for State<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.0
    }
}

impl<S: fmt::Debug> fmt::Debug for State<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

impl<S, F, Fut, E> Handler<Context, (State<S>,)> for F
where
    S: Send + Sync + 'static,
    F: Fn(Context, State<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, cx: Context) -> HandlerFuture {
        match cx.state::<S>() {
            Ok(state) => {
                let fut = self(cx, State(state));
                Box::pin(async move { fut.await.map_err(Into::into) })
            }
            Err(missing) => Box::pin(async move { Err(missing.into()) }),
        }
    }
}

/// One state value and its type's name (for `Debug`).
type Entry = (&'static str, Arc<dyn Any + Send + Sync>);

/// The bot's state values, one per type.
#[derive(Clone, Default)]
pub(crate) struct StateMap {
    /// Shared: every context holds a clone.
    values: Arc<HashMap<TypeId, Entry>>,
}

impl StateMap {
    /// Adds `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<S: Send + Sync + 'static>(&mut self, value: S) {
        Arc::make_mut(&mut self.values)
            .insert(TypeId::of::<S>(), (type_name::<S>(), Arc::new(value)));
    }

    /// The value of type `S`.
    ///
    /// Fails with [`Error::Definition`] naming `S` when the bot has none.
    pub(crate) fn get<S: Send + Sync + 'static>(&self) -> Result<Arc<S>> {
        self.values
            .get(&TypeId::of::<S>())
            .and_then(|(_, value)| Arc::clone(value).downcast::<S>().ok())
            .ok_or_else(|| {
                Error::Definition(format!(
                    "no state of type `{}`: give it to the bot with Bot::with_state",
                    type_name::<S>()
                ))
            })
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Type names only: state may hold secrets.
        f.debug_set()
            .entries(self.values.values().map(|(name, _)| name))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type_and_a_clear_error_when_missing() {
        let mut map = StateMap::default();
        map.insert(7u32);
        map.insert(String::from("a"));
        map.insert(9u32);
        assert_eq!(*map.get::<u32>().unwrap(), 9);
        assert_eq!(*map.get::<String>().unwrap(), "a");
        let error = map.get::<u64>().unwrap_err().to_string();
        assert!(
            error.contains("`u64`") && error.contains("with_state"),
            "{error}"
        );
        assert_eq!(format!("{map:?}").matches("u32").count(), 1);
    }
}
