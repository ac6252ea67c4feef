//! `atombot send`: one signed webhook delivery from a JSON file, or a delivery exported from
//! the delivery log (`atombot deliveries export ID > file.json`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use atombot::config::env::WEBHOOK_SECRET;
use atombot::webhook::send::{DeliveryOptions, HeaderDialect, WebhookSender};

/// Arguments of `atombot send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Event header value: `push`, `issues`, … (or `Push Hook`, … with `--dialect gitcode`);
    /// or, alone, a file from `atombot deliveries export` (its event, headers and body).
    event: String,
    /// JSON body to send byte for byte (`-` reads standard input).
    payload: Option<PathBuf>,
    /// The bot's webhook URL.
    #[arg(long, value_name = "URL")]
    to: String,
    /// Header set: AtomGit-Hookshot (`X-AtomGit-*`) or GitCode (`X-GitCode-*`).
    #[arg(long, value_enum, default_value_t = DialectArg::Atomgit)]
    dialect: DialectArg,
    /// Send the secret as a token header (password mode) instead of an HMAC signature.
    #[arg(long)]
    password: bool,
    /// Delivery id to send (default: a fresh random one).
    #[arg(long, value_name = "ID")]
    delivery_id: Option<String>,
    /// Extra header, repeatable.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
}

/// `--dialect` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// `X-AtomGit-Event`, `X-AtomGit-Delivery`, `X-Hub-Signature-256`.
    Atomgit,
    /// `X-GitCode-Event`, `X-GitCode-Delivery`, `X-GitCode-Signature-256` / `X-GitCode-Token`.
    Gitcode,
}

impl From<DialectArg> for HeaderDialect {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Atomgit => HeaderDialect::AtomGit,
            DialectArg::Gitcode => HeaderDialect::GitCode,
        }
    }
}

/// Sends the delivery, prints the answer; fails on a non-2xx status.
pub(crate) async fn run(args: SendArgs) -> anyhow::Result<()> {
    let secret = std::env::var(WEBHOOK_SECRET)
        .ok()
        .filter(|s| !s.is_empty())
        .with_context(|| format!("set {WEBHOOK_SECRET} to the bot's webhook secret"))?;
    let Some(payload) = &args.payload else {
        return send_export(&args, secret).await;
    };
    let body = if payload.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .context("cannot read the payload from standard input")?;
        buf
    } else {
        std::fs::read(payload).with_context(|| format!("cannot read {}", payload.display()))?
    };
    if is_not_json(&body) {
        eprintln!("warning: the payload is not valid JSON; sending it anyway");
    }

    let mut options = DeliveryOptions::new()
        .dialect(args.dialect.into())
        .password_mode(args.password);
    if let Some(id) = args.delivery_id {
        options = options.delivery_id(id);
    }
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header `{header}` is not NAME:VALUE"))?;
        options = options.header(name.trim(), value.trim());
    }

    let answer = WebhookSender::new(&args.to, secret)
        .send_with(&args.event, body, &options)
        .await?;
    report(&answer)
}

/// Sends the delivery exported to the file named by `args.event`: its event header, its
/// headers' dialect and its body byte for byte, signed anew under a new delivery id (the
/// original's would be dropped as a duplicate) unless `--delivery-id` names one.
async fn send_export(args: &SendArgs, secret: String) -> anyhow::Result<()> {
    let file = PathBuf::from(&args.event);
    let bytes = std::fs::read(&file).with_context(|| {
        format!(
            "cannot read {} (give an event and a payload file, or one file from `atombot deliveries export`)",
            file.display()
        )
    })?;
    let export = atombot::deliveries::Export::parse(&bytes)?.with_context(|| {
        format!(
            "{} is not an export of `atombot deliveries export`; to send a payload give its event first: atombot send push {}",
            file.display(),
            file.display()
        )
    })?;
    let dialect = if export.is_gitcode() {
        HeaderDialect::GitCode
    } else {
        HeaderDialect::AtomGit
    };
    let mut options = DeliveryOptions::new()
        .dialect(dialect)
        .password_mode(args.password);
    if let Some(id) = &args.delivery_id {
        options = options.delivery_id(id.clone());
    }
    // The user agent it came with; the dialect's event, delivery and signature headers are
    // the sender's own.
    if let Some((_, agent)) = export.headers.iter().find(|(n, _)| n == "user-agent") {
        options = options.user_agent(agent.clone());
    }
    let answer = WebhookSender::new(&args.to, secret)
        .send_with(&export.event, export.body_bytes()?, &options)
        .await?;
    println!(
        "sent the export of delivery {} as delivery {}",
        export.id, answer.delivery_id
    );
    report(&answer)
}

/// Prints the answer; fails on a non-2xx status.
fn report(answer: &atombot::webhook::send::DeliveryResponse) -> anyhow::Result<()> {
    println!(
        "HTTP {} (delivery {}, {} ms)",
        answer.status,
        answer.delivery_id,
        answer.elapsed.as_millis()
    );
    if !answer.body.is_empty() {
        println!("{}", answer.body);
    }
    anyhow::ensure!(
        answer.is_success(),
        "the receiver answered {}",
        answer.status
    );
    Ok(())
}

/// Whether `body` is not one JSON value.
fn is_not_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_err()
}
