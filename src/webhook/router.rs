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
/// handler. `M` tells the implementations apart (as in axum's `Handler<T, S>`): the bot's
/// context also takes `async fn(Context, State<S>)` handlers (see `atombot::State`).
pub trait Handler<C, M = ()>: Send + Sync + 'static {
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

/// A handler with its kind erased.
type Erased<C> = dyn Fn(C) -> HandlerFuture + Send + Sync;

/// A handler with a name (for logs and metrics). Cheap to clone.
pub struct NamedHandler<C> {
    name: Arc<str>,
    handler: Arc<Erased<C>>,
}

impl<C: 'static> NamedHandler<C> {
    /// Wraps `handler` under `name`.
    pub fn new<M>(name: impl Into<Cow<'static, str>>, handler: impl Handler<C, M>) -> Self {
        Self {
            name: Arc::from(name.into()),
            handler: Arc::new(move |cx| handler.call(cx)),
        }
    }

    /// Runs the handler with `cx`.
    pub fn call(&self, cx: C) -> HandlerFuture {
        (self.handler)(cx)
    }
}

impl<C> NamedHandler<C> {
    /// The handler's name: given with `on_named`, or `{pattern}#{n}` for the n-th handler
    /// registered with `on` for that pattern (e.g. `issues.opened#1`).
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
    /// Not `event`, `event.action`, `event.*` or `*`; matches nothing.
    Invalid(String),
}

impl Pattern {
    /// Parses `pattern`; a malformed one is kept as [`Pattern::Invalid`] and reported by
    /// [`Router::check`] at start-up rather than panicking here.
    fn parse(pattern: &str) -> Self {
        let pattern = pattern.trim();
        if pattern == "*" {
            return Self::Any;
        }
        match pattern.split_once('.') {
            None if !pattern.is_empty() => Self::Event(pattern.to_owned()),
            Some((event, "*")) if !event.is_empty() => Self::Event(event.to_owned()),
            Some((event, action)) if !event.is_empty() && !action.is_empty() => {
                Self::EventAction(event.to_owned(), action.to_owned())
            }
            _ => Self::Invalid(pattern.to_owned()),
        }
    }

    fn matches(&self, event: &str, action: Option<&str>) -> bool {
        match self {
            Self::Any => true,
            Self::Event(e) => e == event,
            Self::EventAction(e, a) => e == event && action == Some(a.as_str()),
            Self::Invalid(_) => false,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Event(e) => f.write_str(e),
            Self::EventAction(e, a) => write!(f, "{e}.{a}"),
            Self::Invalid(p) => f.write_str(p),
        }
    }
}

/// Routes canonical events to handlers, like axum's `Router<S>` routes paths.
///
/// Patterns: `"push"` (any action), `"issues.opened"` (one action), `"issues.*"` (same as
/// `"issues"`), `"*"` (everything). Every matching handler runs, in registration order.
///
/// Every handler has a name, unique in the bot and stable across builds, under which its
/// work is queued, retried and reported: the one given to [`on_named`](Self::on_named), or
/// for [`on`](Self::on) the pattern and the registration order among `on` handlers of that
/// pattern (`issues.opened#1`, `issues.opened#2`, `*#1`). **Renaming a handler makes it a new
/// handler**: work queued under the old name waits for a process that knows it (see
/// `ATOMBOT_UNKNOWN_TIMEOUT`). Name handlers explicitly when their order may change.
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
/// assert_eq!(router.handlers_for("push", None)[0].name(), "*#1");
/// ```
pub struct Router<C> {
    routes: Vec<Route<C>>,
}

struct Route<C> {
    pattern: Pattern,
    handler: NamedHandler<C>,
    /// Named by `on` (pattern and order), not by the user.
    auto: bool,
    /// Registered with `on_raw`: the event name is not checked against the canonical table.
    raw: bool,
}

impl<C> Clone for Route<C> {
    fn clone(&self) -> Self {
        Self {
            pattern: self.pattern.clone(),
            handler: self.handler.clone(),
            auto: self.auto,
            raw: self.raw,
        }
    }
}

impl<C: Clone + Send + 'static> Router<C> {
    /// An empty router.
    pub fn new() -> Self {
        Self { routes: Vec::new() }
    }

    /// Runs `handler` for events matching `pattern`, named `{pattern}#{n}` where `n` counts
    /// the `on` handlers of that pattern so far, from 1.
    ///
    /// The pattern must be `*`, or `event`, `event.*` or `event.action` naming a canonical
    /// event (and action) of [`events::CANONICAL`](super::events::CANONICAL);
    /// [`check`](Self::check) reports one that is not, naming the closest known one. Use
    /// [`on_raw`](Self::on_raw) for events outside the table.
    pub fn on<M, H: Handler<C, M>>(self, pattern: &str, handler: H) -> Self {
        self.push_auto(pattern, handler, false)
    }

    /// Like [`on`](Self::on) for an event outside the canonical table (a GitLab `note` on a
    /// snippet, a platform event atombot does not know yet): the name is not checked.
    pub fn on_raw<M, H: Handler<C, M>>(self, pattern: &str, handler: H) -> Self {
        self.push_auto(pattern, handler, true)
    }

    fn push_auto<M, H: Handler<C, M>>(mut self, pattern: &str, handler: H, raw: bool) -> Self {
        let pattern = Pattern::parse(pattern);
        let n = 1 + self
            .routes
            .iter()
            .filter(|r| r.auto && r.pattern == pattern)
            .count();
        let name = format!("{pattern}#{n}");
        self.routes.push(Route {
            pattern,
            handler: NamedHandler::new(name, handler),
            auto: true,
            raw,
        });
        self
    }

    /// Like [`on`](Self::on), under an explicit `name` (unique in the bot; see the type docs).
    /// The pattern is checked as for [`on`](Self::on).
    pub fn on_named<M>(
        mut self,
        name: impl Into<Cow<'static, str>>,
        pattern: &str,
        handler: impl Handler<C, M>,
    ) -> Self {
        self.routes.push(Route {
            pattern: Pattern::parse(pattern),
            handler: NamedHandler::new(name, handler),
            auto: false,
            raw: false,
        });
        self
    }

    /// Runs `handler` for every event (the `*` pattern).
    pub fn on_any<M, H: Handler<C, M>>(self, handler: H) -> Self {
        self.on("*", handler)
    }

    /// Appends all of `other`'s routes after this router's, keeping their names.
    pub fn merge(mut self, other: Router<C>) -> Self {
        self.routes.extend(other.routes);
        self
    }

    /// The handlers for `event` with `action`, in registration order.
    pub fn handlers_for(&self, event: &str, action: Option<&str>) -> Vec<NamedHandler<C>> {
        self.routes
            .iter()
            .filter(|r| r.pattern.matches(event, action))
            .map(|r| r.handler.clone())
            .collect()
    }

    /// The handler registered under `name`.
    pub fn handler(&self, name: &str) -> Option<&NamedHandler<C>> {
        self.routes
            .iter()
            .map(|r| &r.handler)
            .find(|h| h.name() == name)
    }

    /// Whether any handler matches (if not, a delivery can be acknowledged and dropped).
    pub fn wants(&self, event: &str, action: Option<&str>) -> bool {
        self.routes.iter().any(|r| r.pattern.matches(event, action))
    }

    /// Checks the router's definition: every pattern well formed and, unless registered with
    /// [`on_raw`](Self::on_raw), naming a canonical event and action; every handler name
    /// valid and unique ([`check_names`](Self::check_names)).
    ///
    /// Fails naming the first offending pattern or name (and, for an unknown event, the
    /// closest known one).
    pub fn check(&self) -> Result<(), String> {
        for route in &self.routes {
            let known = match &route.pattern {
                Pattern::Invalid(p) => Err(format!(
                    "invalid webhook route pattern {p:?}: use `event`, `event.action`, `event.*` or `*`"
                )),
                _ if route.raw => Ok(()),
                Pattern::Any => Ok(()),
                Pattern::Event(e) => super::events::check_known(e, None),
                Pattern::EventAction(e, a) => super::events::check_known(e, Some(a)),
            };
            known.map_err(|e| format!("handler {}: {e}", route.handler.name()))?;
        }
        self.check_names()
    }

    /// Checks that every handler name is non-empty, at most 200 bytes without control
    /// characters, and used once.
    ///
    /// Fails naming the first offending name.
    pub fn check_names(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for route in &self.routes {
            let name = route.handler.name();
            if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
                return Err(format!(
                    "handler name {name:?} must be 1 to 200 bytes without control characters"
                ));
            }
            if !seen.insert(name) {
                return Err(format!(
                    "handler name {name:?} is registered twice (names must be unique; see Router)"
                ));
            }
        }
        Ok(())
    }

    /// The registered `(pattern, handler name)` pairs, in order.
    pub fn routes(&self) -> impl Iterator<Item = (String, &str)> + '_ {
        self.routes
            .iter()
            .map(|r| (r.pattern.to_string(), r.handler.name()))
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
            .entries(
                self.routes
                    .iter()
                    .map(|r| (r.handler.name(), r.pattern.to_string())),
            )
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
            .on_named("audit", "*", |cx: Cx| async move {
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
        assert_eq!(names(&r, "push", None), ["push#1", "audit"]);
        assert_eq!(
            names(&r, "issues", Some("opened")),
            ["issues.opened#1", "issues#1", "audit"]
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
    fn names_are_stable_and_checked() {
        // Two closures in one function: different names, by order.
        let r = Router::<Cx>::new()
            .on("issues.opened", |_cx: Cx| async { Ok::<_, BoxError>(()) })
            .on("issues.opened", |_cx: Cx| async { Ok::<_, BoxError>(()) })
            .on("issues.*", on_push)
            .on_any(on_push);
        assert_eq!(
            names(&r, "issues", Some("opened")),
            ["issues.opened#1", "issues.opened#2", "issues#1", "*#1"]
        );
        assert!(r.check_names().is_ok());
        assert_eq!(
            r.handler("issues.opened#2").unwrap().name(),
            "issues.opened#2"
        );
        assert!(r.handler("nope").is_none());
        // A named handler does not shift the numbers of the others.
        let r2 = Router::<Cx>::new()
            .on_named("greet", "issues.opened", on_push)
            .on("issues.opened", on_push);
        assert_eq!(
            names(&r2, "issues", Some("opened")),
            ["greet", "issues.opened#1"]
        );
        let twice = r2.on_named("greet", "push", on_push);
        let error = twice.check_names().unwrap_err();
        assert!(error.contains("\"greet\" is registered twice"), "{error}");
        let clash = Router::<Cx>::new()
            .on("push", on_push)
            .on_named("push#1", "push", on_push);
        assert!(clash.check_names().is_err());
        assert!(
            Router::<Cx>::new()
                .on_named("", "push", on_push)
                .check_names()
                .is_err()
        );
    }

    #[test]
    fn bad_patterns_and_unknown_events_fail_the_check_with_a_suggestion() {
        let bad = Router::<Cx>::new().on("issues.", on_push);
        assert!(
            bad.check()
                .unwrap_err()
                .contains("invalid webhook route pattern")
        );
        let typo = Router::<Cx>::new().on("issue.opened", on_push);
        let error = typo.check().unwrap_err();
        assert!(error.contains("`issues.opened`"), "{error}");
        assert!(error.contains("issue.opened#1"), "{error}");
        let action = Router::<Cx>::new().on_named("sync", "pull_request.synchronise", on_push);
        assert!(
            action
                .check()
                .unwrap_err()
                .contains("`pull_request.synchronize`")
        );
        assert!(
            Router::<Cx>::new()
                .on("push.opened", on_push)
                .check()
                .is_err()
        );
        // Known names, `*` and raw registrations pass.
        let fine = Router::<Cx>::new()
            .on("issues.opened", on_push)
            .on("issues.*", on_push)
            .on("installation_repositories.added", on_push)
            .on_any(on_push)
            .on_raw("note", on_push)
            .on_raw("wiki_page.create", on_push);
        assert_eq!(fine.check(), Ok(()));
        // The bad pattern never matches anything.
        assert!(bad.handlers_for("issues", None).is_empty());
    }
}
