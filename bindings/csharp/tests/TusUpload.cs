// A raw tus 1.0.0 upload (one creation-with-upload POST with HttpWebRequest), for tests that
// need real media ids: attachments must name finished media objects of the caller's.
using System;
using System.IO;
using System.Net;
using System.Text;

namespace Hues.Sdk.Tests {

static class TusUpload {
  // A JPEG's markers up to its first scan (SOI, APP0, SOF0 of width x height), then filler.
  public static byte[] Jpeg(int width, int height) {
    var head = new byte[] {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xC0, 0, 11, 8, (byte)(height >> 8), (byte)(height & 0xFF), (byte)(width >> 8), (byte)(width & 0xFF), 1, 1, 0x11, 0,
        0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0};
    var data = new byte[2000];
    Array.Copy(head, data, head.Length);
    for (int i = head.Length; i < data.Length; i++) data[i] = (byte)((i * 13) & 0xFF);
    return data;
  }

  public static byte[] Pdf(string text) { return Encoding.UTF8.GetBytes("%PDF-1.7\n% " + text + "\n%%EOF\n"); }

  // The media object's id; authName/authValue: X-Api-Key and the key, or Authorization and "Bearer ...".
  public static string Upload(string baseUrl, byte[] data, string type, string authName, string authValue) {
    var req = (HttpWebRequest)WebRequest.Create(baseUrl + "/v1/uploads");
    req.Method = "POST";
    req.Timeout = 10000;
    req.Headers.Add(authName, authValue);
    req.Headers.Add("Tus-Resumable", "1.0.0");
    req.Headers.Add("Upload-Length", data.Length.ToString());
    req.Headers.Add("Upload-Metadata", "type " + Convert.ToBase64String(Encoding.UTF8.GetBytes(type)));
    req.ContentType = "application/offset+octet-stream";
    req.ContentLength = data.Length;
    using (var body = req.GetRequestStream()) body.Write(data, 0, data.Length);
    using (var res = (HttpWebResponse)req.GetResponse()) {
      if ((int)res.StatusCode != 201) throw new InvalidOperationException("tus upload: " + (int)res.StatusCode);
      return res.Headers["Hues-Media-Id"];
    }
  }
}

}
