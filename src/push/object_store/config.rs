//! `[destination] kind = "object-store"`: the user's keys, checked when the feed is loaded,
//! and the store client built from them. Credentials never come from here: each provider's
//! own chain supplies them (environment, profile, instance or workload identity).

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use serde::Deserialize;

use crate::push::retry::RetryPolicy;

const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// A bucket (S3, S3-compatible, Google Cloud Storage) or an Azure Blob container. Each feed
/// file is written to `PREFIX/NAME` and replaced as a whole: a fetcher gets the old object or
/// the new one, never part of one. Credentials come from the provider's usual chain:
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), `AWS_PROFILE`
/// with `~/.aws/credentials`, web identity or instance metadata for S3;
/// `GOOGLE_SERVICE_ACCOUNT` / `GOOGLE_APPLICATION_CREDENTIALS` or the metadata server for
/// GCS; `AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY`, a SAS token or a
/// managed identity for Azure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreDestination {
    /// `s3://BUCKET/PREFIX/`, `gs://BUCKET/PREFIX/` or `az://CONTAINER/PREFIX/`; the prefix
    /// may be empty.
    pub url: String,
    /// S3-compatible servers only (MinIO, Ceph, Cloudflare R2, …): the endpoint URL, e.g.
    /// `https://minio.example.com:9000`. Requests use path style (`ENDPOINT/BUCKET/KEY`).
    pub endpoint: Option<String>,
    /// S3 region (default: `AWS_REGION` or `AWS_DEFAULT_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Allow a plain `http://` endpoint. Off by default: the feed and the request
    /// signatures would cross the network unencrypted.
    #[serde(default)]
    pub allow_http: bool,
    /// Seconds to wait for a connection (default 10).
    pub connect_timeout_secs: Option<u64>,
    /// Seconds one request may take: a whole small file, or one part of a multipart
    /// upload (default 300).
    pub timeout_secs: Option<u64>,
}

/// Which provider a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    S3,
    Gcs,
    Azure,
}

/// A store client and where in it the feed's files go.
pub(super) struct OpenStore {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) prefix: ObjectPath,
    /// `s3://bucket/prefix`, for messages and the report.
    pub(super) display: String,
}

impl OpenStore {
    /// The object `name` lands in.
    pub(super) fn object(&self, name: &str) -> ObjectPath {
        self.prefix.clone().join(name)
    }

    /// The URL of object `name`, as the user would write it.
    pub(super) fn url_of(&self, name: &str) -> String {
        format!("{}/{name}", self.display)
    }
}

impl ObjectStoreDestination {
    /// Everything wrong with the settings, without touching the network.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let provider = match self.parse() {
            Ok((provider, _, _)) => Some(provider),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let s3_only = [
            ("endpoint", self.endpoint.is_some()),
            ("region", self.region.is_some()),
        ];
        if provider.is_some_and(|p| p != Provider::S3) {
            for (key, set) in s3_only {
                if set {
                    problems.push(format!(
                        "{key} is for S3 and S3-compatible servers only\n  hint: remove it; \
                         Google Cloud Storage and Azure take their settings from the environment"
                    ));
                }
            }
        }
        if let Some(endpoint) = &self.endpoint {
            match url::Url::parse(endpoint) {
                Ok(parsed) if parsed.scheme() == "https" => {}
                Ok(parsed) if parsed.scheme() == "http" && self.allow_http => {}
                Ok(parsed) if parsed.scheme() == "http" => problems.push(format!(
                    "endpoint = {endpoint:?} is plain http, which sends the feed unencrypted\n  \
                     hint: use https, or set allow_http = true for a server on a trusted network"
                )),
                _ => problems.push(format!(
                    "endpoint = {endpoint:?} is not an http(s) URL\n  hint: e.g. endpoint = \
                     \"https://minio.example.com:9000\""
                )),
            }
        }
        for (key, value) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("timeout_secs", self.timeout_secs),
        ] {
            if value == Some(0) {
                problems.push(format!(
                    "{key} = 0 would fail every request\n  hint: leave it out for the default"
                ));
            }
        }
        problems
    }

    /// The provider, the bucket or container, and the prefix inside it.
    fn parse(&self) -> Result<(Provider, String, ObjectPath), String> {
        let hint = "hint: e.g. url = \"s3://my-bucket/feeds/\" (or gs://…, az://CONTAINER/…)";
        let url = url::Url::parse(&self.url)
            .map_err(|err| format!("url = {:?} is not a URL ({err})\n  {hint}", self.url))?;
        let provider = match url.scheme() {
            "s3" | "s3a" => Provider::S3,
            "gs" => Provider::Gcs,
            "az" | "azure" => Provider::Azure,
            other => {
                return Err(format!(
                    "url = {:?}: `{other}://` is not an object store this destination knows\n  {hint}",
                    self.url
                ));
            }
        };
        let bucket = url.host_str().unwrap_or_default();
        if bucket.is_empty() {
            return Err(format!("url = {:?} names no bucket\n  {hint}", self.url));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "url = {:?} has a query or fragment, which an object name cannot carry\n  {hint}",
                self.url
            ));
        }
        let prefix = ObjectPath::from_url_path(url.path().trim_matches('/')).map_err(|err| {
            format!(
                "url = {:?}: the prefix is not a valid object path ({err})\n  {hint}",
                self.url
            )
        })?;
        Ok((provider, bucket.to_owned(), prefix))
    }

    /// The client for this destination. Building it reads the provider's environment but
    /// does not connect.
    pub(super) fn open(&self, retries: &RetryPolicy) -> Result<OpenStore, String> {
        let (provider, bucket, prefix) = self.parse()?;
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(
                self.connect_timeout_secs
                    .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS),
            ))
            .with_timeout(Duration::from_secs(
                self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
            ))
            .with_allow_http(self.allow_http);
        // object_store retries each request itself (a failed part is sent again, not the
        // whole file), with the same backoff bounds as the other transports.
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: retries.min_delay,
                max_backoff: retries.max_delay,
                base: 2.0,
            },
            max_retries: retries.retries,
            retry_timeout: Duration::from_secs(180),
        };
        let store: Arc<dyn ObjectStore> = match provider {
            Provider::S3 => {
                let mut builder =
                    super::aws_profile::with_profile_credentials(AmazonS3Builder::from_env())?
                        .with_url(&self.url)
                        .with_client_options(client)
                        .with_retry(retry);
                if let Some(endpoint) = &self.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(region) = &self.region {
                    builder = builder.with_region(region);
                }
                Arc::new(builder.build().map_err(|err| err.to_string())?)
            }
            Provider::Gcs => Arc::new(
                GoogleCloudStorageBuilder::from_env()
                    .with_url(&self.url)
                    .with_client_options(client)
                    .with_retry(retry)
                    .build()
                    .map_err(|err| err.to_string())?,
            ),
            Provider::Azure => Arc::new(
                MicrosoftAzureBuilder::from_env()
                    .with_url(&self.url)
                    .with_client_options(client)
                    .with_retry(retry)
                    .build()
                    .map_err(|err| err.to_string())?,
            ),
        };
        let scheme = match provider {
            Provider::S3 => "s3",
            Provider::Gcs => "gs",
            Provider::Azure => "az",
        };
        let display = if prefix.as_ref().is_empty() {
            format!("{scheme}://{bucket}")
        } else {
            format!("{scheme}://{bucket}/{prefix}")
        };
        Ok(OpenStore {
            store,
            prefix,
            display,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(url: &str) -> ObjectStoreDestination {
        ObjectStoreDestination {
            url: url.into(),
            endpoint: None,
            region: None,
            allow_http: false,
            connect_timeout_secs: None,
            timeout_secs: None,
        }
    }

    #[test]
    fn urls_name_a_provider_a_bucket_and_a_prefix() {
        let (provider, bucket, prefix) = destination("s3://shop-feeds/meta/de/").parse().unwrap();
        assert_eq!(provider, Provider::S3);
        assert_eq!(bucket, "shop-feeds");
        assert_eq!(prefix.as_ref(), "meta/de");
        let (provider, _, prefix) = destination("gs://b").parse().unwrap();
        assert_eq!((provider, prefix.as_ref()), (Provider::Gcs, ""));
        assert_eq!(destination("az://c/x").parse().unwrap().0, Provider::Azure);
    }

    #[test]
    fn bad_urls_and_plain_http_are_refused_with_a_hint() {
        for url in [
            "ftp://host/x",
            "s3:///prefix",
            "not a url",
            "s3://b/x?versionId=1",
        ] {
            let problems = destination(url).problems();
            assert_eq!(problems.len(), 1, "{url}: {problems:?}");
            assert!(problems[0].contains("hint:"), "{problems:?}");
        }
        let mut plain = destination("s3://b/");
        plain.endpoint = Some("http://127.0.0.1:9000".into());
        assert!(plain.problems()[0].contains("allow_http = true"));
        plain.allow_http = true;
        assert_eq!(plain.problems(), Vec::<String>::new());
        let mut gcs = destination("gs://b/");
        gcs.region = Some("eu".into());
        assert!(gcs.problems()[0].contains("region is for S3"));
    }
}
