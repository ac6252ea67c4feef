//! Event patterns → handlers, generic over the context type handlers receive.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The error a handler may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future a handler returns, boxed.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// Something that handles an event given a context `C`.
///
/// Implemented for every `Fn(C) -> impl Future<Output = Result<(), E>>` with
/// `E: Into<BoxError>`, so a plain `async fn handle(cx: C) -> Result<(), MyError>` is a
/// handler.
pub trait Handler<C>: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, cx: C) -> HandlerFuture;
}

impl<C, F, Fut, E> Handler<C> for F
where
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, cx: C) -> HandlerFuture {
        let fut = self(cx);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// A handler with a name (for logs and metrics). Cheap to clone.
pub struct NamedHandler<C> {
    name: Cow<'static, str>,
    handler: Arc<dyn Handler<C>>,
}

impl<C: 'static> NamedHandler<C> {
    /// Wraps `handler` under `name`.
    pub fn new(name: impl Into<Cow<'static, str>>, handler: impl Handler<C>) -> Self {
        Self {
            name: name.into(),
            handler: Arc::new(handler),
        }
    }

    /// Runs the handler with `cx`.
    pub fn call(&self, cx: C) -> HandlerFuture {
        self.handler.call(cx)
    }
}

impl<C> NamedHandler<C> {
    /// The handler's name (by default its Rust type path, e.g. `my_bot::on_push`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<C> Clone for NamedHandler<C> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<C> fmt::Debug for NamedHandler<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NamedHandler").field(&self.name).finish()
    }
}

/// What a route matches: every event, one event, or one event with one action.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Event(String),
    EventAction(String, String),
}

impl Pattern {
    fn parse(pattern: &str) -> Self {
        let pattern = pattern.trim();
        assert!(
            !pattern.is_empty(),
            "webhook route pattern must not be empty"
        );
        if pattern == "*" {
            return Self::Any;
        }
        match pattern.split_once('.') {
            None => Self::Event(pattern.to_owned()),
            Some((event, "*")) if !event.is_empty() => Self::Event(event.to_owned()),
            Some((event, action)) if !event.is_empty() && !action.is_empty() => {
                Self::EventAction(event.to_owned(), action.to_owned())
            }
            _ => panic!("invalid webhook route pattern {pattern:?}: use `event` or `event.action`"),
        }
    }

    fn matches(&self, event: &str, action: Option<&str>) -> bool {
        match self {
            Self::Any => true,
            Self::Event(e) => e == event,
            Self::EventAction(e, a) => e == event && action == Some(a.as_str()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Event(e) => f.write_str(e),
            Self::EventAction(e, a) => write!(f, "{e}.{a}"),
        }
    }
}

/// Routes canonical events to handlers, like axum's `Router<S>` routes paths.
///
/// Patterns: `"push"` (any action), `"issues.opened"` (one action), `"issues.*"` (same as
/// `"issues"`), `"*"` (everything). Every matching handler runs, in registration order.
///
/// # Example
/// ```
/// use atombot::webhook::{BoxError, Router};
///
/// #[derive(Clone)]
/// struct Cx;
///
/// async fn greet(_cx: Cx) -> Result<(), BoxError> { Ok(()) }
/// async fn audit(_cx: Cx) -> Result<(), std::io::Error> { Ok(()) }
///
/// let router = Router::new().on("issues.opened", greet).on_any(audit);
/// assert_eq!(router.handlers_for("issues", Some("opened")).len(), 2);
/// assert_eq!(router.handlers_for("push", None).len(), 1);
/// assert!(router.wants("push", None));
/// ```
pub struct Router<C> {
    routes: Vec<(Pattern, NamedHandler<C>)>,
}

impl<C: Clone + Send + 'static> Router<C> {
    /// An empty router.
    pub fn new() -> Self {
        Self { routes: Vec::new() }
    }

    /// Runs `handler` for events matching `pattern`, named after its Rust type.
    ///
    /// # Panics
    /// If `pattern` is empty or not `event`, `event.action`, `event.*` or `*`.
    pub fn on<H: Handler<C>>(self, pattern: &str, handler: H) -> Self {
        let name = std::any::type_name::<H>();
        self.on_named(pattern, name, handler)
    }

    /// Like [`on`](Self::on), with an explicit name for logs and metrics.
    ///
    /// # Panics
    /// If `pattern` is invalid, as for [`on`](Self::on).
    pub fn on_named(
        mut self,
        pattern: &str,
        name: impl Into<Cow<'static, str>>,
        handler: impl Handler<C>,
    ) -> Self {
        let pattern = Pattern::parse(pattern);
        self.routes
            .push((pattern, NamedHandler::new(name, handler)));
        self
    }

    /// Runs `handler` for every event (the `*` pattern).
    pub fn on_any<H: Handler<C>>(self, handler: H) -> Self {
        self.on("*", handler)
    }

    /// Appends all of `other`'s routes after this router's.
    pub fn merge(mut self, other: Router<C>) -> Self {
        self.routes.extend(other.routes);
        self
    }

    /// The handlers for `event` with `action`, in registration order.
    pub fn handlers_for(&self, event: &str, action: Option<&str>) -> Vec<NamedHandler<C>> {
        self.routes
            .iter()
            .filter(|(p, _)| p.matches(event, action))
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// Whether any handler matches (if not, a delivery can be acknowledged and dropped).
    pub fn wants(&self, event: &str, action: Option<&str>) -> bool {
        self.routes.iter().any(|(p, _)| p.matches(event, action))
    }

    /// The registered `(pattern, handler name)` pairs, in order.
    pub fn routes(&self) -> impl Iterator<Item = (String, &str)> + '_ {
        self.routes.iter().map(|(p, h)| (p.to_string(), h.name()))
    }

    /// The number of registered handlers.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

impl<C: Clone + Send + 'static> Default for Router<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Clone for Router<C> {
    fn clone(&self) -> Self {
        Self {
            routes: self.routes.clone(),
        }
    }
}

impl<C> fmt::Debug for Router<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.routes.iter().map(|(p, h)| (p.to_string(), h.name())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Cx(Arc<Mutex<Vec<&'static str>>>);

    async fn on_push(cx: Cx) -> Result<(), BoxError> {
        cx.0.lock().unwrap().push("push");
        Ok(())
    }

    async fn on_opened(cx: Cx) -> Result<(), std::io::Error> {
        cx.0.lock().unwrap().push("opened");
        Ok(())
    }

    async fn failing(_cx: Cx) -> Result<(), String> {
        Err("nope".to_owned())
    }

    fn router() -> Router<Cx> {
        Router::new()
            .on("push", on_push)
            .on("issues.opened", on_opened)
            .on("issues.*", on_push)
            .on_named("*", "audit", |cx: Cx| async move {
                cx.0.lock().unwrap().push("any");
                Ok::<_, BoxError>(())
            })
            .on("pull_request", failing)
    }

    fn names(r: &Router<Cx>, e: &str, a: Option<&str>) -> Vec<String> {
        r.handlers_for(e, a)
            .iter()
            .map(|h| h.name().to_owned())
            .collect()
    }

    #[test]
    fn matching() {
        let r = router();
        assert_eq!(
            names(&r, "push", None),
            ["atombot::webhook::router::tests::on_push", "audit"]
        );
        assert_eq!(names(&r, "issues", Some("opened")).len(), 3);
        assert_eq!(names(&r, "issues", Some("closed")).len(), 2);
        assert_eq!(names(&r, "issues", None).len(), 2);
        assert_eq!(names(&r, "star", Some("created")), ["audit"]);
        assert!(r.wants("anything", None));
        let narrow = Router::<Cx>::new().on("issues.opened", on_opened);
        assert!(narrow.wants("issues", Some("opened")));
        assert!(!narrow.wants("issues", Some("closed")));
        assert!(!narrow.wants("push", None));
        assert_eq!(r.len(), 5);
        assert!(format!("{r:?}").contains("issues.opened"));
    }

    #[tokio::test]
    async fn handlers_run_with_the_context() {
        let r = router();
        let cx = Cx::default();
        for h in r.handlers_for("issues", Some("opened")) {
            h.call(cx.clone()).await.unwrap();
        }
        assert_eq!(*cx.0.lock().unwrap(), ["opened", "push", "any"]);
        let errors: Vec<_> = futures_util::future::join_all(
            r.handlers_for("pull_request", Some("opened"))
                .into_iter()
                .map(|h| h.call(cx.clone())),
        )
        .await;
        assert_eq!(errors.iter().filter(|r| r.is_err()).count(), 1);
    }

    #[test]
    #[should_panic(expected = "invalid webhook route pattern")]
    fn bad_pattern_panics() {
        let _ = Router::<Cx>::new().on("issues.", on_push);
    }
}
