package vn.hues.sdk.internal;

/** Not part of the API: the identity factories of the (package-private) SWIG module class. */
public final class IdentityFactories {
  private IdentityFactories() {}

  public static CredentialsProvider apiKeyCredentials(String key) { return HuesNative.apiKeyCredentials(key); }
  public static TokenStore memoryTokenStore() { return HuesNative.makeMemoryTokenStore(); }
  public static TokenStore fileTokenStore(String directory) { return HuesNative.makeFileTokenStore(directory); }
}
