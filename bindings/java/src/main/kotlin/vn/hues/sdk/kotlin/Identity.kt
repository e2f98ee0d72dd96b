// Kotlin forms of the identity API: suspend sign-in flows whose cancellation reaches the
// native call, and a builder DSL.
@file:JvmName("IdentityKt")

package vn.hues.sdk.kotlin

import vn.hues.sdk.identity.OidcClient

/** `oidcClient { issuer(url); clientId("hues-cli"); caFile(ca) }` */
fun oidcClient(block: OidcClient.Builder.() -> Unit): OidcClient = OidcClient.builder().apply(block).build()

/**
 * Polls until the person approves on another device. Cancelling the coroutine stops the
 * native polling at once (CancellationToken); denial throws OAuthException access_denied.
 */
suspend fun OidcClient.awaitDeviceToken(device: DeviceAuthorization, options: CallOptions? = null): TokenSet =
    pollDeviceTokenAsync(device, options).awaitCancellable()

/** Exchanges the code of a sign-in redirect without blocking the caller's thread. */
suspend fun OidcClient.awaitExchangeCode(request: AuthorizationRequest, redirectedTo: String): TokenSet =
    exchangeCodeAsync(request, redirectedTo).awaitCancellable()
