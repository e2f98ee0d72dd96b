package vn.hues.sdk.identity;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import vn.hues.sdk.model.DeviceAuthorization;
import vn.hues.sdk.testing.Sandbox;

/**
 * A browser without JavaScript for the sandbox's login pages: GETs a page, fills in its form,
 * POSTs it with its cookies, never follows redirects. Trusts the sandbox's CA only, over real TLS.
 */
public final class SandboxBrowser {
  public static final String PASSWORD = "HueS-demo-2025";
  private static final Pattern INPUT = Pattern.compile("<input\\b[^>]*>", Pattern.CASE_INSENSITIVE);
  private static final Pattern NAME = Pattern.compile("\\bname\\s*=\\s*\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final Pattern VALUE = Pattern.compile("\\bvalue\\s*=\\s*\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private final Sandbox sandbox;
  private final HttpClient http;
  // The login forms are bound to a CSRF cookie. java.net.CookieManager drops cookies of a
  // dotless host such as localhost, so this jar is ours.
  private final Map<String, String> cookies = new java.util.concurrent.ConcurrentHashMap<>();

  public SandboxBrowser(Sandbox sandbox) throws Exception {
    this.sandbox = sandbox;
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream pem = Files.newInputStream(Path.of(sandbox.caFile()))) {
      trust.setCertificateEntry("hues-sandbox-ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10)).build();
  }

  public HttpResponse<String> get(String url) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(url)));
  }

  public HttpResponse<String> post(String url, Map<String, String> form) throws Exception {
    String body = form.entrySet().stream()
        .map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
    return send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private HttpResponse<String> send(HttpRequest.Builder req) throws Exception {
    if (!cookies.isEmpty()) {
      req.header("Cookie", cookies.entrySet().stream()
          .map(c -> c.getKey() + "=" + c.getValue()).collect(Collectors.joining("; ")));
    }
    HttpResponse<String> res = http.send(req.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    for (String set : res.headers().allValues("set-cookie")) {
      String pair = set.split(";", 2)[0];
      int eq = pair.indexOf('=');
      if (eq > 0) cookies.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return res;
  }

  /** Logs username in on the authorize page and returns the redirect's Location. */
  public String signIn(String authorizeUrl, String username, String decision) throws Exception {
    HttpResponse<String> page = get(authorizeUrl);
    if (page.statusCode() != 200) throw new AssertionError("authorize page: " + page.statusCode() + " " + page.body());
    Map<String, String> fields = formFields(page.body());
    fields.put("username", username);
    fields.put("password", PASSWORD);
    fields.put("decision", decision);
    HttpResponse<String> res = post(sandbox.tlsUrl() + "/oauth/authorize", fields);
    if (res.statusCode() != 302) throw new AssertionError("login: " + res.statusCode() + " " + res.body());
    return res.headers().firstValue("Location").orElseThrow();
  }

  /** Approves or denies a device code on the /device page, as the person on their phone. */
  public int decideDevice(DeviceAuthorization device, String username, String decision) throws Exception {
    String uri = device.getVerificationUriComplete().isEmpty() ? device.getVerificationUri()
        : device.getVerificationUriComplete();
    HttpResponse<String> page = get(uri);
    if (page.statusCode() != 200) throw new AssertionError("device page: " + page.statusCode());
    Map<String, String> fields = formFields(page.body());
    fields.put("user_code", device.getUserCode());
    fields.put("username", username);
    fields.put("password", PASSWORD);
    fields.put("decision", decision);
    return post(sandbox.tlsUrl() + "/device", fields).statusCode();
  }

  /** The named inputs of a page (hidden ones carry the request). */
  static Map<String, String> formFields(String html) {
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher input = INPUT.matcher(html);
    while (input.find()) {
      Matcher n = NAME.matcher(input.group());
      if (!n.find()) continue;
      Matcher v = VALUE.matcher(input.group());
      fields.put(unescape(n.group(1)), v.find() ? unescape(v.group(1)) : "");
    }
    return fields;
  }

  private static String unescape(String s) {
    return s.replace("&quot;", "\"").replace("&#39;", "'").replace("&#x27;", "'")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
