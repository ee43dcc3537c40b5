// Original file: proto/peerscope/v1/peerscope.proto


export interface GetSinkStatusRequest {
}

export interface GetSinkStatusRequest__Output {
}
