//! Secrets, salts and IVs come from the operating system's CSPRNG.

/// The operating system gave no random bytes: nothing may be encrypted then.
#[derive(Debug, thiserror::Error)]
#[error("The system's random number generator failed ({0}), so nothing was encrypted.")]
pub struct RandomError(getrandom::Error);

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(bytes)
}
