//! `mandrel keygen`, `seal`, `open`: the receiving side (retailer backend, audits) and a
//! desktop sealer for tests.
//!
//! Keys are raw 32-byte X25519 keys written as base64url without padding (one line). The
//! private key file is created with mode 0600 and never overwritten unless `--force`.
//! Opening does X25519 with `x25519-dalek` and everything else (KEM, key schedule, AEAD,
//! envelope and bundle checks) with `mandrel_core::seal`, so the key schedule exists once.

use crate::BadInput;
use anyhow::Context as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mandrel_core::limits::read::{read_capped, shown};
use mandrel_core::limits::Limit;
use mandrel_core::seal::envelope::parse_measurement_json;
use mandrel_core::seal::{
    new_scan_id, now_rfc3339_utc, seal_measurement, Consent, Content, Envelope, RecipientPublicKey,
    Scope, SealError, SealRequest,
};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// Arguments of `mandrel keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Output prefix: writes OUT_PREFIX.pub (public, ships in the app) and OUT_PREFIX.key
    /// (private, mode 0600).
    pub out_prefix: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `mandrel seal`.
#[derive(clap::Args)]
pub struct SealArgs {
    /// The measurement JSON (as printed by `mandrel measure --json`).
    pub result: PathBuf,
    /// Recipient public key file (base64url, from `mandrel keygen`).
    #[arg(long, value_name = "KEY.pub")]
    pub to: PathBuf,
    /// Purpose the shopper consented to (travels in the authenticated header).
    #[arg(long)]
    pub purpose: String,
    /// Consent scope: `measurement` or `measurement+mesh`.
    #[arg(long, value_parser = ["measurement", "measurement+mesh"])]
    pub scope: String,
    /// Version of the privacy policy the shopper was shown.
    #[arg(long, default_value = "1")]
    pub policy_version: String,
    /// When consent was granted, RFC 3339 UTC (default: now).
    #[arg(long)]
    pub granted_at: Option<String>,
    /// Scan id (default: random 128-bit hex).
    #[arg(long)]
    pub scan_id: Option<String>,
    /// Include this PLY mesh (requires --scope measurement+mesh).
    #[arg(long, value_name = "MESH.ply")]
    pub mesh: Option<PathBuf>,
    /// Output file for the sealed envelope JSON.
    #[arg(short = 'o', long = "out", value_name = "SEALED.json")]
    pub out: PathBuf,
}

/// Arguments of `mandrel open`.
#[derive(clap::Args)]
pub struct OpenArgs {
    /// The sealed envelope JSON.
    pub sealed: PathBuf,
    /// Recipient private key file (base64url, from `mandrel keygen`).
    #[arg(long, value_name = "KEY.key")]
    pub key: PathBuf,
    /// Write the mesh of a measurement+mesh envelope here (PLY).
    #[arg(long, value_name = "MESH.ply")]
    pub mesh_out: Option<PathBuf>,
    /// Print one JSON object {header, measurement, mesh_bytes} instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads an input file within `limit` (a regular file only); every failure is the
/// caller's input (exit 2).
fn read_input(path: &Path, limit: Limit, what: &str) -> anyhow::Result<Vec<u8>> {
    read_capped(path, limit).map_err(|e| BadInput(format!("cannot read {what}: {e}")).into())
}

fn read_key_file(path: &Path, what: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let raw = Zeroizing::new(read_input(path, Limit::KeyFileBytes, what)?);
    let text = std::str::from_utf8(&raw).map_err(|_| {
        BadInput(format!(
            "{what} {} is not text (binary or UTF-16?); a key file is one line of base64url",
            shown(path)
        ))
    })?;
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text.trim()).map_err(|e| {
        BadInput(format!(
            "{what} {} is not base64url without padding: {e}",
            shown(path)
        ))
    })?);
    if bytes.len() != 32 {
        return Err(BadInput(format!(
            "{what} {} holds {} bytes; an X25519 key is 32 bytes",
            shown(path),
            bytes.len()
        ))
        .into());
    }
    Ok(bytes)
}

/// Refuses a private key given where a public key belongs (`seal --to`): a `.key` file
/// name, or a file whose key's public half is the content of the `.pub` beside it.
fn refuse_private_key(path: &Path, key: &[u8]) -> anyhow::Result<()> {
    let refuse = || -> anyhow::Error {
        BadInput(format!(
            "{} is a private key; seal --to takes the recipient's public key (the .pub file from mandrel keygen)",
            shown(path)
        ))
        .into()
    };
    if path.extension().is_some_and(|e| e == "key") {
        return Err(refuse());
    }
    let mut sk = [0u8; 32];
    sk.copy_from_slice(key);
    let public = PublicKey::from(&StaticSecret::from(sk));
    zeroize::Zeroize::zeroize(&mut sk);
    let sibling = path.with_extension("pub");
    if sibling != path {
        if let Ok(text) = read_capped(&sibling, Limit::KeyFileBytes) {
            let text = String::from_utf8_lossy(&text);
            if URL_SAFE_NO_PAD.decode(text.trim()).ok().as_deref() == Some(public.as_bytes()) {
                return Err(refuse());
            }
        }
    }
    Ok(())
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn write_private(path: &Path, contents: &[u8], force: bool) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        format!(
            "cannot create {} (it exists? use --force to overwrite)",
            path.display()
        )
    })?;
    #[cfg(unix)]
    {
        // A pre-existing file keeps its mode on truncate: force 0600.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// Runs `mandrel keygen`.
pub fn keygen(a: KeygenArgs) -> crate::Outcome {
    let pub_path = with_suffix(&a.out_prefix, ".pub");
    let key_path = with_suffix(&a.out_prefix, ".key");
    if !a.force {
        for p in [&pub_path, &key_path] {
            if p.exists() {
                return Err(BadInput(format!(
                    "{} already exists; refusing to overwrite a key (use --force)",
                    p.display()
                ))
                .into());
            }
        }
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut seed[..])
        .map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    let secret = StaticSecret::from(*seed);
    let public = PublicKey::from(&secret);
    let key_text = Zeroizing::new(format!("{}\n", URL_SAFE_NO_PAD.encode(secret.as_bytes())));
    write_private(&key_path, key_text.as_bytes(), a.force)?;
    fs::write(
        &pub_path,
        format!("{}\n", URL_SAFE_NO_PAD.encode(public.as_bytes())),
    )
    .with_context(|| format!("cannot write {}", pub_path.display()))?;
    let key_id = RecipientPublicKey::from_bytes(public.as_bytes())?.key_id();
    println!("public key:  {} (key id {key_id})", pub_path.display());
    println!(
        "private key: {} (mode 0600; keep it off the app)",
        key_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `mandrel seal`.
pub fn seal(a: SealArgs) -> crate::Outcome {
    // Size before parsing: a huge file is refused without being read whole.
    let text = read_input(&a.result, Limit::MeasurementBytes, "the result")?;
    let measurement = parse_measurement_json(&text)
        .map_err(|e| BadInput(format!("{}: {e}", shown(&a.result))))?;
    drop(text);
    let pk_bytes = read_key_file(&a.to, "public key")?;
    refuse_private_key(&a.to, &pk_bytes)?;
    let recipient = RecipientPublicKey::from_bytes(&pk_bytes)?;
    let scope = Scope::parse(&a.scope).map_err(|e| BadInput(e.to_string()))?;
    let granted_at = a.granted_at.clone().unwrap_or_else(now_rfc3339_utc);
    let consent = Consent::new(&a.purpose, scope, &a.policy_version, granted_at)
        .map_err(|e| BadInput(format!("consent: {e}")))?;
    let mesh = match &a.mesh {
        Some(p) => Some(read_input(p, Limit::MeshBytes, "the mesh")?),
        None => None,
    };
    let scan_id = match &a.scan_id {
        Some(s) => s.clone(),
        None => new_scan_id()?,
    };
    let request = SealRequest {
        scan_id: &scan_id,
        measurement: &measurement,
        mesh_ply: mesh.as_deref(),
        consent: Some(&consent),
        created_at: None,
    };
    let envelope = seal_measurement(&recipient, &request).map_err(|e| match e {
        SealError::Hpke(_) => anyhow::Error::new(e),
        other => BadInput(other.to_string()).into(),
    })?;
    fs::write(&a.out, format!("{}\n", envelope.to_json()))
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "sealed scan {scan_id} for key id {} ({}, scope {}) -> {}",
        envelope.recipient_key_id,
        if mesh.is_some() {
            "measurement + mesh"
        } else {
            "measurement"
        },
        scope.as_str(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `mandrel open`.
pub fn open(a: OpenArgs) -> crate::Outcome {
    let bytes = read_input(&a.sealed, Limit::EnvelopeBytes, "the envelope")?;
    let envelope =
        Envelope::parse(&bytes).map_err(|e| BadInput(format!("{}: {e}", shown(&a.sealed))))?;
    drop(bytes);
    warn_if_key_readable_by_others(&a.key);
    let sk_bytes = read_key_file(&a.key, "private key")?;
    let mut sk = [0u8; 32];
    sk.copy_from_slice(&sk_bytes);
    let secret = StaticSecret::from(sk);
    zeroize::Zeroize::zeroize(&mut sk);
    let public = PublicKey::from(&secret);
    let recipient = RecipientPublicKey::from_bytes(public.as_bytes())?;
    let enc = envelope.enc_bytes()?;
    let shared = secret.diffie_hellman(&PublicKey::from(enc));
    // A rejected envelope is bad input (exit 2): nothing of it is written or printed.
    if !shared.was_contributory() {
        return Err(BadInput(format!(
            "REJECTED: {}: enc is a low-order point (all-zero X25519 result); the envelope is forged or corrupted",
            shown(&a.sealed)
        ))
        .into());
    }
    let opened = match envelope.open_with_dh(&recipient, shared.as_bytes()) {
        Ok(o) => o,
        Err(e @ SealError::WrongRecipient { .. }) => {
            return Err(BadInput(format!(
                "REJECTED: {}: {e}: wrong private key",
                shown(&a.sealed)
            ))
            .into())
        }
        Err(e) => {
            return Err(BadInput(format!(
                "REJECTED: {}: {e}. Do not trust any part of this envelope (header included).",
                shown(&a.sealed)
            ))
            .into())
        }
    };
    let header: serde_json::Value = serde_json::from_str(&envelope.header)?;
    let (measurement, mesh) = match opened.content {
        Content::Measurement(m) => (m, None),
        Content::MeasurementAndMesh {
            measurement,
            mesh_ply,
        } => (measurement, mesh_ply),
        Content::FittedBandOrder {
            measurement,
            mesh_ply,
            band_stl,
        } => {
            eprintln!(
                "fitted band order: {} bytes of band STL (binary, mm)",
                band_stl.len()
            );
            (measurement, mesh_ply)
        }
        _ => anyhow::bail!(
            "{}: the envelope holds a kind of content this version cannot show",
            a.sealed.display()
        ),
    };
    if let (Some(path), Some(mesh)) = (&a.mesh_out, &mesh) {
        fs::write(path, mesh).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if a.json {
        let out = serde_json::json!({
            "header": header,
            "measurement": measurement,
            "mesh_bytes": mesh.as_ref().map(Vec::len),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "authenticated: yes (HPKE base, key id {})",
            envelope.recipient_key_id
        );
        println!("header:\n{}", serde_json::to_string_pretty(&header)?);
        println!(
            "measurement:\n{}",
            serde_json::to_string_pretty(&measurement)?
        );
        match (&mesh, &a.mesh_out) {
            (Some(m), Some(p)) => {
                println!("mesh: {} bytes of PLY written to {}", m.len(), p.display())
            }
            (Some(m), None) => println!(
                "mesh: {} bytes of PLY (use --mesh-out to write it)",
                m.len()
            ),
            (None, _) => println!("mesh: none"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn warn_if_key_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: private key {} has mode {mode:o}; it should be 600",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_key_readable_by_others(_path: &Path) {}
