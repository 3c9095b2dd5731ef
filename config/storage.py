"""Where uploaded files (avatars) are kept: the local filesystem, or any S3-compatible store from the environment.

`AVATAR_STORAGE=filesystem` (the default) keeps them under MEDIA_ROOT, served by the app at
MEDIA_URL (config.media). `AVATAR_STORAGE=s3`, or a bucket named without it, uses django-storages'
S3 backend: AWS S3, MinIO, Ceph, R2... through `AWS_S3_ENDPOINT_URL`. The credentials are read by
django-storages and boto3 themselves (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or an instance role).
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"

# Optional S3Storage options, each from its variable when set.
_S3_OPTIONAL = {
    "endpoint_url": "AWS_S3_ENDPOINT_URL",
    "region_name": "AWS_S3_REGION_NAME",
    "custom_domain": "AWS_S3_CUSTOM_DOMAIN",  # a CDN or public host in front of the bucket
    "location": "AWS_LOCATION",  # a key prefix inside the bucket
    "default_acl": "AWS_DEFAULT_ACL",  # e.g. public-read, for stores without a bucket policy
    "addressing_style": "AWS_S3_ADDRESSING_STYLE",  # "path" for most self-hosted stores
}


def media_storage_from_env() -> dict:
    """The STORAGES["default"] entry the environment asks for."""
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    kind = env_str("AVATAR_STORAGE", "s3" if bucket else "filesystem").strip().lower()
    if kind == "filesystem":
        return {"BACKEND": FILESYSTEM_BACKEND}
    if kind != "s3":
        raise ImproperlyConfigured(f"AVATAR_STORAGE must be 'filesystem' or 's3', not {kind!r}")
    if not bucket:
        raise ImproperlyConfigured("AVATAR_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    options = {
        "bucket_name": bucket,
        # Avatars are public and their URLs are kept (leaderboard caches, pages): never signed, never expiring.
        "querystring_auth": False,
        # Every upload has a new random name: no existence check (one request less) is needed.
        "file_overwrite": True,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    options.update({option: env_str(name) for option, name in _S3_OPTIONAL.items() if env_str(name)})
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
