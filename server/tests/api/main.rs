//! Integration tests: the real server and the embedded store on free loopback
//! ports, driven over HTTP the way a browser drives them.

mod access;
mod attacks;
mod budget;
mod caching;
mod cli_resume;
mod confirm;
mod disk_full;
mod hostile_clients;
mod load;
mod multipart;
mod multipart_expiry;
mod operability;
mod owner_token;
mod plain_form;
mod public_links;
mod raw_http;
mod requests;
mod rotation;
mod sealed;
mod security;
mod shares;
mod shutdown;
mod sign_upload;
mod slow_clients;
mod static_files;
mod storage_budget;
mod store_outage;
mod upload_flow;
