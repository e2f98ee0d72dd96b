// Credentials a HuesClient sends instead of an API key (HuesClientOptions.Credentials). They
// fetch and refresh tokens by themselves and are safe to share between clients and threads.
using System;
using Hues.Sdk.Native;

namespace Hues.Sdk.Identity {

public abstract class Credentials : IDisposable {
  readonly CredentialsProvider provider;
  internal readonly CallGate Gate;

  internal Credentials(OidcClient oidc, CredentialsProvider provider) {
    Oidc = oidc;
    this.provider = provider;
    Gate = new CallGate(this, provider.Dispose);
  }

  // The provider client these credentials get tokens from.
  public OidcClient Oidc { get; }

  internal void Apply(ClientOptions options) { Gate.Run(() => options.Credentials = provider); }

  // Releases this handle; clients already built with these credentials keep using them.
  public void Dispose() { Gate.Dispose(); }

  internal static OidcClient Check(OidcClient oidc) {
    if (oidc == null) throw new ArgumentNullException(nameof(oidc));
    return oidc;
  }
}

// A partner backend's client credentials: one token, fetched when first needed and again
// shortly before it expires or after the API refused it.
public sealed class ClientCredentials : Credentials {
  readonly NativeClientCredentials native;

  public ClientCredentials(OidcClient oidc, string scope = "")
      : this(Check(oidc), Check(oidc).Call(n => new NativeClientCredentials(n, scope ?? ""))) {}

  ClientCredentials(OidcClient oidc, NativeClientCredentials native) : base(oidc, native) {
    this.native = native;
  }

  // The current access token, fetched or refreshed when needed.
  public string AccessToken() { return Gate.Run(() => native.AccessToken()); }

  // Tokens fetched so far.
  public int FetchCount { get { return Gate.Run(() => native.FetchCount()); } }
}

// A signed-in person's tokens: refreshed before expiry (one refresh at a time however many
// threads call), saved to the store after every change.
public sealed class UserCredentials : Credentials {
  readonly NativeUserCredentials native;

  // Starts from tokens (e.g. ExchangeCode's) and saves them in store under key; with null
  // tokens, restores what store holds under key. A null store keeps tokens in memory.
  public UserCredentials(OidcClient oidc, TokenStore store, string key, TokenSet tokens = null)
      : this(Check(oidc), Create(Check(oidc), store, key, tokens)) {}

  UserCredentials(OidcClient oidc, NativeUserCredentials native) : base(oidc, native) {
    this.native = native;
  }

  static NativeUserCredentials Create(OidcClient oidc, TokenStore store, string key, TokenSet tokens) {
    if (key == null) throw new ArgumentNullException(nameof(key));
    if (store == null) store = TokenStore.InMemory();
    return store.WithNative(s => oidc.Call(o => new NativeUserCredentials(o, s, key, tokens ?? new TokenSet())));
  }

  // The current tokens, refreshed when near expiry. AuthenticationException (Code
  // "not_signed_in") after SignOut or when the store held none.
  public TokenSet Tokens() { return Gate.Run(() => native.Tokens()); }

  public int RefreshCount { get { return Gate.Run(() => native.RefreshCount()); } }

  public bool SignedIn { get { return Gate.Run(() => native.SignedIn()); } }

  // Forgets the tokens (clearing the store) and then revokes them at the provider.
  public void SignOut() { Gate.Run(() => native.SignOut()); }
}

}
