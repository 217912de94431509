//! Where published files go, and how they appear there atomically.
//!
//! - **Local**: the file is written under a hidden name (`.NAME.inprogress`) in its
//!   partition directory, synced, then renamed to its name: a reader sees the whole file
//!   or nothing.
//! - **S3**: the file is written to the staging directory, then uploaded in one `PUT`,
//!   or as a multipart upload when it is larger than [`PART_SIZE`] (an object appears
//!   only when its upload completes). The id of a multipart upload in progress is kept
//!   beside the staging file, so an upload cut short by a crash is aborted at start-up
//!   instead of lingering (and costing) in the bucket.
//!
//! A file's name is derived from its staging file, so publishing it again after a crash
//! replaces the same file or object instead of adding a second copy.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};

/// Size of the parts of a multipart upload (S3 needs at least 5 MiB but for the last).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Extension of the file beside a staging file that holds its upload id.
const UPLOAD_EXTENSION: &str = "upload";
/// Extension of an encoded file waiting for its upload.
const OUT_EXTENSION: &str = "out";

/// S3 settings from the flow.
pub struct S3Settings<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub region: &'a str,
    pub endpoint: Option<&'a str>,
    pub path_style: bool,
    pub max_backoff: Duration,
    pub timeout: Duration,
}

pub enum Store {
    Local {
        root: PathBuf,
    },
    S3 {
        client: Arc<AmazonS3>,
        prefix: String,
        /// `s3://bucket/prefix`, for messages.
        url: String,
    },
}

fn s3_error(e: object_store::Error) -> io::Error {
    let kind = match &e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("S3: {e}"))
}

impl Store {
    pub fn local(root: &Path) -> Store {
        Store::Local {
            root: root.to_owned(),
        }
    }

    /// An S3 store; credentials come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, web identity, or the instance's
    /// role), never from the flow.
    pub fn s3(settings: &S3Settings<'_>) -> io::Result<Store> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(settings.bucket)
            .with_region(settings.region)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(settings.timeout)
                    .with_connect_timeout(settings.timeout.min(Duration::from_secs(10))),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: settings.max_backoff,
                    base: 2.0,
                },
                max_retries: 5,
                retry_timeout: Duration::from_secs(60),
            });
        if let Some(endpoint) = settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let client = builder.build().map_err(s3_error)?;
        Ok(Store::S3 {
            client: Arc::new(client),
            prefix: settings.prefix.to_owned(),
            url: format!("s3://{}/{}", settings.bucket, settings.prefix),
        })
    }

    /// Where files go, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Local { root } => root.display().to_string(),
            Store::S3 { url, .. } => url.clone(),
        }
    }

    fn key(prefix: &str, relative: &str) -> Key {
        if prefix.is_empty() {
            Key::from(relative)
        } else {
            Key::from(format!("{prefix}/{relative}"))
        }
    }

    /// Publishes a file at `relative` (`partition/name`): `encode` writes its content
    /// into the file it is given. `staging` is the staging file it comes from, beside
    /// which an S3 upload keeps its temporary files.
    pub async fn publish(
        &self,
        relative: &str,
        staging: &Path,
        encode: impl FnOnce(File) -> io::Result<File>,
    ) -> io::Result<()> {
        match self {
            Store::Local { root } => {
                let target = root.join(relative);
                let dir = target.parent().unwrap_or(root);
                std::fs::create_dir_all(dir)?;
                let name = target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let hidden = dir.join(format!(".{name}.inprogress"));
                let written = File::create(&hidden).and_then(|file| {
                    let file = encode(file)?;
                    file.sync_all()?;
                    drop(file);
                    std::fs::rename(&hidden, &target)?;
                    // The new name, and a new partition directory's own entry.
                    File::open(dir)?.sync_all()?;
                    File::open(root)?.sync_all()
                });
                if written.is_err() {
                    let _ = std::fs::remove_file(&hidden);
                }
                written
            }
            Store::S3 { client, prefix, .. } => {
                let out = staging.with_extension(OUT_EXTENSION);
                // Read back for the upload, so opened for both.
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&out)?;
                let mut file = encode(file)?;
                let size = file.stream_position()?;
                file.rewind()?;
                let key = Store::key(prefix, relative);
                if size as usize <= PART_SIZE {
                    let mut data = Vec::with_capacity(size as usize);
                    file.read_to_end(&mut data)?;
                    client
                        .put(&key, PutPayload::from(data))
                        .await
                        .map_err(s3_error)?;
                } else {
                    upload_in_parts(client, &key, file, staging).await?;
                }
                std::fs::remove_file(&out)?;
                Ok(())
            }
        }
    }

    /// Cleans up after a crash: aborts the multipart upload of staging file `staging`
    /// if one was in progress, and removes its temporary files.
    pub async fn clean_up(&self, staging: &Path) -> io::Result<()> {
        let out = staging.with_extension(OUT_EXTENSION);
        if out.exists() {
            std::fs::remove_file(&out)?;
        }
        let upload = staging.with_extension(UPLOAD_EXTENSION);
        let Ok(record) = std::fs::read_to_string(&upload) else {
            return Ok(());
        };
        if let (Store::S3 { client, .. }, Some((key, id))) = (self, record.split_once('\n')) {
            let id = id.to_owned();
            match client.abort_multipart(&Key::from(key), &id).await {
                Ok(()) => tracing::info!(key, "aborted a multipart upload cut short by a crash"),
                Err(e) => {
                    tracing::warn!(key, error = %e, "cannot abort a multipart upload cut short by a crash; a bucket lifecycle rule for incomplete uploads removes it")
                }
            }
        }
        std::fs::remove_file(&upload)
    }
}

/// Uploads `file` to `key` in [`PART_SIZE`] parts, recording the upload id beside
/// `staging` while it is in progress.
async fn upload_in_parts(
    client: &AmazonS3,
    key: &Key,
    mut file: File,
    staging: &Path,
) -> io::Result<()> {
    let id = client.create_multipart(key).await.map_err(s3_error)?;
    let record = staging.with_extension(UPLOAD_EXTENSION);
    let recorded = File::create(&record).and_then(|mut f| {
        f.write_all(format!("{key}\n{id}").as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = recorded {
        let _ = client.abort_multipart(key, &id).await;
        return Err(e);
    }
    let mut parts: Vec<PartId> = Vec::new();
    let result: io::Result<()> = async {
        loop {
            let mut chunk = Vec::with_capacity(PART_SIZE);
            (&mut file).take(PART_SIZE as u64).read_to_end(&mut chunk)?;
            if chunk.is_empty() {
                break;
            }
            let part = client
                .put_part(key, &id, parts.len(), PutPayload::from(chunk))
                .await
                .map_err(s3_error)?;
            parts.push(part);
        }
        client
            .complete_multipart(key, &id, parts)
            .await
            .map_err(s3_error)?;
        Ok(())
    }
    .await;
    if result.is_err() {
        if let Err(e) = client.abort_multipart(key, &id).await {
            tracing::warn!(key = %key, error = %e, "cannot abort a failed multipart upload");
        }
    }
    std::fs::remove_file(&record)?;
    result
}
