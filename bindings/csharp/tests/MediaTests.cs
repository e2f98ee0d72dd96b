using System;
using System.Linq;
using System.Security.Cryptography;
using NUnit.Framework;

namespace Hues.Sdk.Tests {

// media.get, generated from the spec: a photo uploaded with raw tus HTTP, read through the SDK
// (blocking and Task), with its sniffed type, pixel size and digest; an unknown id's 404.
[TestFixture, Timeout(60000)]
public class MediaTests {
  [Test]
  public void MediaGetReadsWhatAnUploadBecame() {
    var sb = SandboxFixture.Sandbox;
    var data = TusUpload.Jpeg(640, 480);
    var id = TusUpload.Upload(sb.Url, data, "photo", "X-Api-Key", sb.ApiKey);
    using (var client = sb.CreateClient()) {
      var m = client.Media.Get(id);
      Assert.That(m.Id, Is.EqualTo(id));
      Assert.That(m.Type.Value, Is.EqualTo("photo"));
      Assert.That(m.ContentType, Is.EqualTo("image/jpeg"));
      Assert.That(m.Size, Is.EqualTo(data.Length));
      Assert.That(m.Width, Is.EqualTo(640));
      Assert.That(m.Height, Is.EqualTo(480));
      Assert.That(m.DurationMs, Is.Null);
      string hex;
      using (var sha = SHA256.Create()) hex = string.Concat(sha.ComputeHash(data).Select(b => b.ToString("x2")));
      Assert.That(m.Sha256, Is.EqualTo(hex));
      Assert.That(client.Media.GetAsync(id).Result.Sha256, Is.EqualTo(hex));
      Assert.Throws<NotFoundException>(() => client.Media.Get("m_aaaaaaaaaaaaaaaaaaaaaaaa"));
    }
  }
}

}
