"""HTTP endpoints beside Strawberry's view: streamed GraphQL multipart uploads, file downloads
(/files/<signed token>, with Range) and upload-session parts for the filesystem backend."""
