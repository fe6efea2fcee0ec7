package ec2sim

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"time"
)

const (
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsVersion   = "2011-06-15"
	timeFormat   = "2006-01-02T15:04:05.000Z"
	ec2Server    = "AmazonEC2" // EC2's Server header
)

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// The XML documents below use the element names of botocore's EC2 model
// (locationName, else the member name; lists are <item>s). The conformance
// test checks them against testdata/ec2-model-subset.json.

type xmlFpgaImage struct {
	FpgaImageID       string          `xml:"fpgaImageId"`
	FpgaImageGlobalID string          `xml:"fpgaImageGlobalId,omitempty"`
	Name              string          `xml:"name,omitempty"`
	Description       string          `xml:"description,omitempty"`
	ShellVersion      string          `xml:"shellVersion,omitempty"`
	PciID             *xmlPciID       `xml:"pciId,omitempty"`
	State             xmlState        `xml:"state"`
	CreateTime        string          `xml:"createTime"`
	UpdateTime        string          `xml:"updateTime"`
	OwnerID           string          `xml:"ownerId"`
	OwnerAlias        string          `xml:"ownerAlias,omitempty"`
	ProductCodes      *xmlProductCode `xml:"productCodes,omitempty"`
	Tags              *xmlTags        `xml:"tags,omitempty"`
	Public            *bool           `xml:"public,omitempty"`
	DataRetention     *bool           `xml:"dataRetentionSupport,omitempty"`
}

type xmlPciID struct {
	DeviceID          string `xml:"DeviceId"`
	VendorID          string `xml:"VendorId"`
	SubsystemID       string `xml:"SubsystemId"`
	SubsystemVendorID string `xml:"SubsystemVendorId"`
}

type xmlState struct {
	Code    string `xml:"code"`
	Message string `xml:"message,omitempty"`
}

type xmlProductCode struct {
	Items []xmlProductCodeItem `xml:"item"`
}

type xmlProductCodeItem struct {
	ProductCode string `xml:"productCode"`
	Type        string `xml:"type"`
}

type xmlTags struct {
	Items []xmlTag `xml:"item"`
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlLoadPermissions struct {
	Items []xmlLoadPermission `xml:"item"`
}

type xmlLoadPermission struct {
	UserID string `xml:"userId,omitempty"`
	Group  string `xml:"group,omitempty"`
}

type xmlFpgaImageAttribute struct {
	FpgaImageID     string              `xml:"fpgaImageId"`
	Name            *string             `xml:"name"`
	Description     *string             `xml:"description"`
	LoadPermissions *xmlLoadPermissions `xml:"loadPermissions"`
	ProductCodes    *xmlProductCode     `xml:"productCodes"`
}

type xmlTagDescription struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

type xmlRegion struct {
	RegionName  string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

// Response bodies (without root element and requestId).
type (
	copyFpgaImageResult struct {
		FpgaImageID string `xml:"fpgaImageId"`
	}
	createFpgaImageResult struct {
		FpgaImageID       string `xml:"fpgaImageId"`
		FpgaImageGlobalID string `xml:"fpgaImageGlobalId"`
	}
	describeFpgaImagesResult struct {
		FpgaImageSet struct {
			Items []xmlFpgaImage `xml:"item"`
		} `xml:"fpgaImageSet"`
		NextToken string `xml:"nextToken,omitempty"`
	}
	returnResult struct {
		Return bool `xml:"return"`
	}
	attributeResult struct {
		Attribute xmlFpgaImageAttribute `xml:"fpgaImageAttribute"`
	}
	describeTagsResult struct {
		TagSet struct {
			Items []xmlTagDescription `xml:"item"`
		} `xml:"tagSet"`
		NextToken string `xml:"nextToken,omitempty"`
	}
	describeRegionsResult struct {
		RegionInfo struct {
			Items []xmlRegion `xml:"item"`
		} `xml:"regionInfo"`
	}
	getCallerIdentityResult struct {
		XMLName xml.Name `xml:"GetCallerIdentityResult"`
		Arn     string   `xml:"Arn"`
		UserID  string   `xml:"UserId"`
		Account string   `xml:"Account"`
	}
)

// writeEC2 writes a success response: <ActionResponse xmlns=…> with
// <requestId> first and the result's members directly under the root.
func writeEC2(w http.ResponseWriter, action, requestID string, body any) {
	type envelope struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		RequestID string `xml:"requestId"`
		Members   []byte `xml:",innerxml"`
	}
	// Marshal the result struct, then keep only its children: EC2 puts the
	// result members directly under the root, with no …Result wrapper.
	inner, err := xml.Marshal(body)
	if err == nil {
		if i, j := bytes.IndexByte(inner, '>'), bytes.LastIndex(inner, []byte("</")); i >= 0 && j > i && inner[i-1] != '/' {
			inner = inner[i+1 : j]
		} else {
			inner = nil
		}
		var b []byte
		b, err = xml.Marshal(envelope{XMLName: xml.Name{Local: action + "Response"}, Xmlns: ec2Namespace, RequestID: requestID, Members: inner})
		if err == nil {
			writeXML(w, http.StatusOK, requestID, ec2Server, b)
			return
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// writeEC2Error writes EC2's error document. The request ID element is
// RequestID, which is what aws-sdk-go-v2's ec2query error parser reads.
func (s *Sim) writeEC2Error(w http.ResponseWriter, requestID string, e *apiError) {
	type errorDoc struct {
		XMLName   xml.Name `xml:"Response"`
		Code      string   `xml:"Errors>Error>Code"`
		Message   string   `xml:"Errors>Error>Message"`
		RequestID string   `xml:"RequestID"`
	}
	b, _ := xml.Marshal(errorDoc{Code: e.Code, Message: e.Message, RequestID: requestID})
	writeXML(w, e.Status, requestID, ec2Server, b)
}

// writeSTS writes an STS success response: <ActionResponse> holding the
// result (whose XMLName is <ActionResult>) and the request ID.
func writeSTS(w http.ResponseWriter, action, requestID string, body any) {
	type doc struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		Result    any
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	b, _ := xml.Marshal(doc{XMLName: xml.Name{Local: action + "Response"}, Xmlns: stsNamespace, Result: body, RequestID: requestID})
	writeXML(w, http.StatusOK, requestID, "", b)
}

func writeSTSError(w http.ResponseWriter, requestID string, e *apiError) {
	type doc struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	b, _ := xml.Marshal(doc{Xmlns: stsNamespace, Type: typ, Code: e.Code, Message: e.Message, RequestID: requestID})
	writeXML(w, e.Status, requestID, "", b)
}

// writeXML writes an XML answer. server is the Server header: EC2 answers
// with "AmazonEC2"; STS sends none.
func writeXML(w http.ResponseWriter, status int, requestID, server string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	if server != "" {
		h.Set("Server", server)
	}
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(body)
}
