//! Item operations -> Merchant API requests: the URL and JSON body of each insert and
//! delete. Needs no credentials, so `push --dry-run` shows the very requests a push sends.

use super::names;
use super::service::ApiRequest;
use crate::feed::Feed;
use crate::push::items::{ItemOperation, Operation};

/// What every request of one feed shares.
pub(super) struct Requests<'a> {
    pub(super) feed: &'a Feed,
    /// The endpoint without a trailing `/`.
    pub(super) base: String,
    pub(super) account: String,
    /// `accounts/{account}/dataSources/{data_source}`.
    pub(super) data_source: String,
    pub(super) language: String,
    pub(super) feed_label: String,
}

impl Requests<'_> {
    /// The HTTP request for one operation, or why the item cannot be sent.
    pub(super) fn request(&self, operation: &ItemOperation) -> Result<ApiRequest, String> {
        let spec = &self.feed.spec;
        let per_store = spec.per_store;
        let (offer_id, store) = if per_store {
            let (store, offer) = names::split_store_key(&operation.key)
                .ok_or_else(|| format!("key {:?} is not `store/offer id`", operation.key))?;
            (offer, Some(store))
        } else {
            (operation.key.as_str(), None)
        };
        let product = names::product_segment(&self.language, &self.feed_label, offer_id);
        let data_source = url_query(&self.data_source);
        let (method, path, body) = match (&operation.operation, store) {
            (Operation::Upsert(values), None) => {
                let mut body = crate::push::api_body::build(spec, values, &[])?;
                if let Some(object) = body.as_object_mut() {
                    object.insert("offerId".into(), offer_id.into());
                    object.insert("contentLanguage".into(), self.language.clone().into());
                    object.insert("feedLabel".into(), self.feed_label.clone().into());
                }
                let path = format!(
                    "/products/v1/accounts/{}/productInputs:insert?dataSource={data_source}",
                    self.account
                );
                (reqwest::Method::POST, path, Some(body))
            }
            (Operation::Delete, None) => (
                reqwest::Method::DELETE,
                format!(
                    "/products/v1/accounts/{}/productInputs/{product}?dataSource={data_source}",
                    self.account
                ),
                None,
            ),
            (Operation::Upsert(values), Some(store)) => {
                // The item key names the product in the URL, not in the body.
                let mut body = crate::push::api_body::build(spec, values, &[spec.item_key])?;
                if let Some(object) = body.as_object_mut() {
                    object.insert("storeCode".into(), store.into());
                }
                let path = format!(
                    "/inventories/v1/accounts/{}/products/{product}/localInventories:insert",
                    self.account
                );
                (reqwest::Method::POST, path, Some(body))
            }
            (Operation::Delete, Some(store)) => (
                reqwest::Method::DELETE,
                format!(
                    "/inventories/v1/accounts/{}/products/{product}/localInventories/{}",
                    self.account,
                    names::escape_segment(store)
                ),
                None,
            ),
        };
        let url = url::Url::parse(&format!("{}{path}", self.base))
            .map_err(|err| format!("cannot build the request URL: {err}"))?;
        Ok(ApiRequest {
            not_found_is_done: body.is_none(),
            not_found_rejects_item: per_store,
            method,
            url,
            body,
        })
    }
}

/// A query value with `/` kept readable and everything else unusual escaped.
fn url_query(value: &str) -> String {
    names::escape_segment(value).replace("%2F", "/")
}
